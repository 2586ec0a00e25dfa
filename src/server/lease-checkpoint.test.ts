// --experimental-enable-lease-checkpoint on one member: the leader checkpoints remaining TTLs
// through raft, a restart counts from the checkpoint instead of the full TTL, and a keep-alive
// clears the checkpoint.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const CHECKPOINT = '--experimental-enable-lease-checkpoint';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, flags: string[]): Promise<EtcdServer> {
  const s = await EtcdServer.start(testConfig(dir, flags), quietLogger(), { leaseCheckpointIntervalMs: 1500 });
  await s.readyNotify();
  return s;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** Grants a 10 s lease, lets 2.6 s go by, restarts the member; returns the TTL it then reports. */
async function ttlAfterRestart(flags: string[]): Promise<{ ttl: number; checkpointed: number }> {
  const dir = tempDir();
  dirs.push(dir);
  let s = await start(dir, flags);
  const { ID } = await s.lease.leaseGrant({ ID: 0n, TTL: 10 });
  // The first checkpoint is due 1.5 s after the grant; the leader's loop looks every 500 ms.
  await sleep(2600);
  const checkpointed = s.lessor.lookup(ID)!.checkpointedTtl;
  await s.stop();
  s = await start(dir, flags);
  try {
    await until('the lessor is promoted', () => s.lessor.isPrimary);
    const r = await s.lease.leaseTimeToLive({ ID, keys: false });
    assert.equal(r.grantedTTL, 10);
    return { ttl: r.TTL, checkpointed };
  } finally {
    await s.stop();
  }
}

test('with lease checkpoints a restart counts from the checkpointed remaining TTL, not the full TTL', async () => {
  const on = await ttlAfterRestart([CHECKPOINT]);
  assert.ok(on.checkpointed > 0 && on.checkpointed < 10, `checkpointed remaining TTL ${on.checkpointed}`);
  assert.ok(on.ttl <= on.checkpointed, `TTL ${on.ttl} after the restart, checkpoint ${on.checkpointed}`);
  const off = await ttlAfterRestart([]);
  assert.equal(off.checkpointed, 0, 'no checkpoint without the flag');
  assert.equal(off.ttl, 10, 'without checkpoints a restart gives the full TTL back');
});

test('a keep-alive clears the checkpoint through raft', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const s = await start(dir, [CHECKPOINT]);
  try {
    const { ID } = await s.lease.leaseGrant({ ID: 0n, TTL: 10 });
    await until('a checkpoint applies', () => s.lessor.lookup(ID)!.checkpointedTtl > 0);
    const ka = await s.lease.leaseKeepAlive(ID);
    assert.equal(ka.TTL, 10);
    await until('the checkpoint is cleared', () => s.lessor.lookup(ID)!.checkpointedTtl === 0, 1000);
  } finally {
    await s.stop();
  }
});
