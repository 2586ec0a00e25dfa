/**
 * Helpers for the server's tests and benchmarks: a configuration for a single member in a
 * temporary data dir, parsed from flags as the executable would, and a quiet logger.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../pkg/logger.js';
import { parseConfig } from './config/parse-config.js';
import type { ServerConfig } from './config/server-config.js';

/** A fresh temporary folder. */
export function tempDir(prefix = 'etcd-ts-server-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The configuration of a one-member cluster named `name` keeping its data in `dataDir`, plus `flags`. */
export function testConfig(dataDir: string, flags: readonly string[] = [], name = 'test'): ServerConfig {
  const r = parseConfig(
    [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      '--listen-client-urls=http://127.0.0.1:0',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:0',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      `--initial-cluster=${name}=http://127.0.0.1:2380`,
      '--heartbeat-interval=10',
      '--election-timeout=100',
      ...flags,
    ],
    {},
  );
  if (!r.ok) throw new Error(r.error);
  if (r.action !== 'run') throw new Error(`unexpected action ${r.action}`);
  return r.config;
}

/** A logger that drops everything below `error` unless ETCDTS_TEST_LOG is set. */
export function quietLogger(): Logger {
  const level = process.env['ETCDTS_TEST_LOG'] !== undefined ? 'debug' : 'error';
  return createLogger({ level, sink: (line) => process.stderr.write(`${line}\n`) });
}
