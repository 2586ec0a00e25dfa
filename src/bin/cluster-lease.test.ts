// Leases and watches on an in-process 3-member cluster: followers forward keep-alives and
// time-to-live to the leader over the peer port; only the leader expires leases.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRpcError } from '../api/rpctypes/index.js';
import type { ServerConfig } from '../server/config/server-config.js';
import { quietLogger } from '../server/test-member.js';
import { startMember, type RunningMember } from './start-member.js';
import { clusterConfigs, until } from './test-cluster.js';

const enc = new TextEncoder();

async function count(m: RunningMember, key: string): Promise<number> {
  const r = await m.server.range({ key: enc.encode(key), rangeEnd: new Uint8Array(0), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: true, keysOnly: false, countOnly: true, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 });
  return r.count;
}

// Bounded: a wait that never ends (seen once, under a full parallel run) fails the suite instead of stalling it.
describe('leases on a 3-member cluster in one process', { timeout: 120_000 }, () => {
  const running = new Map<number, RunningMember>();
  let configs: ServerConfig[] = [];
  after(async () => {
    await Promise.all([...running.values()].map((m) => m.close()));
    for (const c of configs) rmSync(c.dataDir, { recursive: true, force: true });
  });
  const members = (): RunningMember[] => [...running.values()];
  const leaderOf = (): RunningMember | undefined => members().find((m) => m.server.leader === m.server.memberId);
  const followers = (): RunningMember[] => members().filter((m) => m.server.leader !== m.server.memberId);
  const agreed = (): boolean => {
    const l = leaderOf();
    return l !== undefined && members().every((m) => m.server.leader === l.server.memberId);
  };
  let leaseId = 0n;
  // Keeps leaseId alive through a follower every 500 ms while a test waits on other leases.
  let keeping: Promise<void> | undefined;
  let keepOn = false;
  const keepAliveInBackground = (): void => {
    keepOn = true;
    keeping = (async () => {
      while (keepOn) {
        await followers()[0]?.server.lease.leaseKeepAlive(leaseId).catch(() => undefined);
        await sleep(500);
      }
    })();
  };
  const stopKeepingAlive = async (): Promise<void> => {
    keepOn = false;
    await keeping;
  };

  test('a keep-alive sent to a follower keeps the lease alive past its TTL; time-to-live with keys on a follower', async () => {
    configs = await clusterConfigs(3, { token: 'cluster-lease-test' });
    const started = await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })));
    started.forEach((m, i) => running.set(i, m));
    await Promise.all(started.map((m) => m.server.readyNotify()));
    await until('all members agree on a leader', agreed);
    const follower = followers()[0]!;
    const grant = await follower.server.lease.leaseGrant({ ID: 0n, TTL: 2 });
    leaseId = grant.ID;
    await follower.server.put({ key: enc.encode('svc/a'), value: enc.encode('x'), lease: leaseId, prevKv: false, ignoreValue: false, ignoreLease: false });
    for (let i = 0; i < 8; i++) {
      const ka = await follower.server.lease.leaseKeepAlive(leaseId);
      assert.equal(ka.ID, leaseId);
      assert.equal(ka.TTL, 2);
      await sleep(500);
    }
    for (const m of members()) assert.equal(await count(m, 'svc/a'), 1, 'the key outlived its 2 s TTL');
    const ttl = await follower.server.lease.leaseTimeToLive({ ID: leaseId, keys: true });
    assert.equal(ttl.ID, leaseId);
    assert.equal(ttl.grantedTTL, 2);
    assert.ok(ttl.TTL >= 0 && ttl.TTL <= 2, `remaining TTL ${ttl.TTL}`);
    assert.deepEqual(ttl.keys.map((k) => new TextDecoder().decode(k)), ['svc/a']);
    assert.equal(ttl.header?.memberId, follower.server.memberId);
    assert.equal((await follower.server.lease.leaseTimeToLive({ ID: 0x1234n, keys: false })).TTL, -1);
    assert.equal((await follower.server.lease.leaseKeepAlive(0x1234n)).TTL, 0, 'an unknown lease answers TTL 0');
    keepAliveInBackground();
  });

  test('only the leader counts down: every member loses the key within TTL + 1 s of the last keep-alive', async () => {
    const g = await leaderOf()!.server.lease.leaseGrant({ ID: 0n, TTL: 1 });
    await followers()[1]!.server.put({ key: enc.encode('svc/short'), value: enc.encode('x'), lease: g.ID, prevKv: false, ignoreValue: false, ignoreLease: false });
    await followers()[1]!.server.lease.leaseKeepAlive(g.ID);
    const kept = Date.now();
    await until('every member deleted the key', async () => (await Promise.all(members().map((m) => count(m, 'svc/short')))).every((c) => c === 0), 4000);
    assert.ok(Date.now() - kept <= 2000 + 300, `expired after ${Date.now() - kept} ms`);
    assert.equal(members().filter((m) => m.server.lessor.isPrimary).length, 1, 'one primary lessor');
  });

  test('after the leader stops, a follower keep-alive reaches the new leader and the lease survives', async () => {
    const old = leaderOf()!;
    const oldIndex = [...running].find(([, m]) => m === old)![0];
    await stopKeepingAlive();
    const follower = followers()[0]!;
    assert.equal((await follower.server.lease.leaseKeepAlive(leaseId)).TTL, 2);
    const stoppedAt = Date.now();
    await old.close();
    running.delete(oldIndex);
    const ka = await follower.server.lease.leaseKeepAlive(leaseId);
    const recoveredMs = Date.now() - stoppedAt;
    assert.equal(ka.TTL, 2);
    assert.ok(recoveredMs < 2000, `keep-alive recovered in ${recoveredMs} ms, within the TTL`);
    await until('a new leader is promoted', () => agreed() && leaderOf()!.server.lessor.isPrimary);
    for (const m of members()) assert.equal(await count(m, 'svc/a'), 1);
    // The rejoin may take longer than the lease's TTL on a loaded machine: keep it alive meanwhile.
    keepAliveInBackground();
    const back = await startMember(configs[oldIndex]!, quietLogger(), { exitProcess: false });
    running.set(oldIndex, back);
    await back.server.readyNotify();
    await until('the old leader rejoined', agreed);
  });

  test('leases survive a restart of every member, with their remaining TTL refreshed', async () => {
    await stopKeepingAlive();
    assert.equal((await followers()[0]!.server.lease.leaseKeepAlive(leaseId)).TTL, 2);
    await Promise.all(members().map((m) => m.close()));
    running.clear();
    const restartedAt = Date.now();
    const started = await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })));
    started.forEach((m, i) => running.set(i, m));
    await Promise.all(started.map((m) => m.server.readyNotify()));
    await until('a promoted leader', () => agreed() && leaderOf()!.server.lessor.isPrimary);
    // The new leader counts from its promotion, after the restart: the election timeout plus the
    // full TTL, whatever the restart took (no keep-alive ran since).
    const refreshed = leaderOf()!.server.lessor.lookup(leaseId);
    assert.ok(refreshed !== undefined, 'the lease survived the restart');
    const extended = configs[0]!.electionTimeoutMs + 2000;
    assert.ok(refreshed.expiry >= restartedAt + extended, `expiry ${refreshed.expiry - restartedAt} ms after the restart began (at least ${extended})`);
    const ttl = await followers()[0]!.server.lease.leaseTimeToLive({ ID: leaseId, keys: true });
    assert.equal(ttl.grantedTTL, 2);
    assert.ok(ttl.TTL >= 1, `refreshed TTL ${ttl.TTL}`);
    assert.equal((await followers()[1]!.server.lease.leaseKeepAlive(leaseId)).TTL, 2);
    for (const m of members()) assert.equal(await count(m, 'svc/a'), 1);
  });

  test('with no quorum a follower answers keep-alives with etcd\'s no-leader error', async () => {
    const keep = followers()[0]!;
    for (const [i, m] of [...running]) {
      if (m === keep) continue;
      await m.close();
      running.delete(i);
    }
    // A leader left alone keeps renewing until check-quorum makes it step down (as etcd's does).
    await until('the survivor knows no leader', () => keep.server.leader === 0n);
    await assert.rejects(keep.server.lease.leaseKeepAlive(leaseId), (err: unknown) => isRpcError(err, 'no-leader'));
  });
});
