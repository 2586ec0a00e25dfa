/**
 * Helpers for the in-process cluster tests of src/bin: free ports, the configurations of an
 * n-member cluster on loopback, and polling until a condition holds.
 */
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerConfig } from '../server/config/server-config.js';
import { tempDir, testConfig } from '../server/test-member.js';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Options of `clusterConfigs`. */
export interface ClusterConfigOptions {
  /** --initial-cluster-token (default 'cluster-test'). */
  readonly token?: string;
  /** Member names are the prefix plus the member's position (default 'm'). */
  readonly namePrefix?: string;
  /** Flags added to every member's command line. */
  readonly extra?: readonly string[];
}

/** The configurations of an n-member cluster on free loopback ports, each in a fresh data dir. */
export async function clusterConfigs(n: number, options: ClusterConfigOptions = {}): Promise<ServerConfig[]> {
  const ports: number[] = [];
  for (let i = 0; i < 2 * n; i++) ports.push(await freePort());
  const names = Array.from({ length: n }, (_, i) => `${options.namePrefix ?? 'm'}${i}`);
  const initial = names.map((name, i) => `${name}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  return names.map((name, i) =>
    testConfig(
      tempDir('etcd-ts-cluster-'),
      [
        `--listen-client-urls=http://127.0.0.1:${ports[2 * i]}`,
        `--advertise-client-urls=http://127.0.0.1:${ports[2 * i]}`,
        `--listen-peer-urls=http://127.0.0.1:${ports[2 * i + 1]}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports[2 * i + 1]}`,
        `--initial-cluster=${initial}`,
        `--initial-cluster-token=${options.token ?? 'cluster-test'}`,
        ...(options.extra ?? []),
      ],
      name,
    ),
  );
}

/** Polls `cond` every `pollMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(pollMs);
  }
}
