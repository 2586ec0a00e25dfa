// A write waiting for a leader whose client gives up is never proposed, as etcd drops a proposal
// whose request context ended; a write whose client still waits goes through once there is one.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import type { ServerConfig } from '../server/config/server-config.js';
import { quietLogger } from '../server/test-member.js';
import { startMember, type RunningMember } from './start-member.js';
import { clusterConfigs, until } from './test-cluster.js';

const enc = new TextEncoder();
const putReq = (key: string): Parameters<RunningMember['server']['put']>[0] => ({ key: enc.encode(key), value: enc.encode('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });

let configs: ServerConfig[] = [];
const running: RunningMember[] = [];
after(async () => {
  await Promise.all(running.map((m) => m.close()));
  for (const c of configs) rmSync(c.dataDir, { recursive: true, force: true });
});

test('a queued write whose client gave up is dropped; one whose client waits is applied once a leader is back', { timeout: 60_000 }, async () => {
  configs = await clusterConfigs(3, { token: 'abandoned-proposal', extra: ['--heartbeat-interval=50', '--election-timeout=500'] });
  running.push(...(await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })))));
  await Promise.all(running.map((m) => m.server.readyNotify()));
  const [kept, ...others] = running.splice(0, 3) as [RunningMember, RunningMember, RunningMember];
  running.push(kept);
  await Promise.all(others.map((m) => m.close()));
  // Alone, it steps down (check quorum) and knows no leader: writes wait in its proposal queue.
  await until('the lone member knows no leader', () => kept.server.leader === 0n, 10_000);

  const gaveUp = { cancelled: false };
  const abandoned = kept.server.put(putReq('abandoned'), undefined, gaveUp).catch((e: unknown) => e);
  const waiting = kept.server.put(putReq('waiting'), undefined, { cancelled: false });
  await new Promise((r) => setTimeout(r, 100));
  gaveUp.cancelled = true;

  running.push(...(await Promise.all([1, 2].map((i) => startMember(configs[i]!, quietLogger(), { exitProcess: false })))));
  const done = await waiting;
  assert.ok(done.header!.revision > 0);
  const get = (key: string): Promise<number> =>
    kept.server
      .range({ key: enc.encode(key), rangeEnd: new Uint8Array(), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false, countOnly: true, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 })
      .then((r) => r.count);
  assert.equal(await get('waiting'), 1);
  assert.equal(await get('abandoned'), 0, 'the write its client gave up on was never proposed');
  assert.ok((await abandoned) instanceof Error, 'the abandoned write answers with an error, not a revision');
});
