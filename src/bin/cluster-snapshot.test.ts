// A follower that was down while the leader compacted its log past it catches up from the
// leader's snapshot (its backend streamed over the peer port), in-process over loopback sockets.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { createLogger } from '../pkg/logger.js';
import type { ServerConfig } from '../server/config/server-config.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { quietLogger, tempDir, testConfig } from '../server/test-member.js';
import { startMember, type RunningMember } from './start-member.js';
import { clusterConfigs, freePort, until } from './test-cluster.js';

const enc = new TextEncoder();

/** More entries than the leader keeps behind a snapshot (SNAPSHOT_CATCH_UP_ENTRIES) plus --snapshot-count. */
/** Snapshot installs take longer than the default wait: poll less often, wait longer. */
const untilSlow = (what: string, cond: () => boolean | Promise<boolean>): Promise<void> => until(what, cond, 20_000, 20);

const ENTRIES_WHILE_DOWN = 5400;

async function put(m: RunningMember, key: string, value: string, lease = 0n): Promise<void> {
  await m.server.put({ key: enc.encode(key), value: enc.encode(value), lease, prevKv: false, ignoreValue: false, ignoreLease: false });
}

async function keysOf(m: RunningMember): Promise<string[]> {
  const r = await m.server.range({ key: enc.encode('\0'), rangeEnd: enc.encode('\0'), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: true, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 });
  return r.kvs.map((kv) => `${Buffer.from(kv.key).toString()}=${Buffer.from(kv.value).toString()}@${kv.modRevision}/${kv.lease}`);
}

async function v2Tree(m: RunningMember): Promise<string> {
  const r = await m.server.v2.do({ Method: 'GET', Path: '/1', Recursive: true, Sorted: true });
  assert.ok(r.ok && r.event !== undefined, 'the v2 tree can be read');
  return JSON.stringify(r.event.node);
}

async function leaseIds(m: RunningMember): Promise<bigint[]> {
  const r = await m.server.lease!.leaseLeases({});
  return r.leases.map((l) => l.ID).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('a follower behind a compacted log', () => {
  const running = new Map<number, RunningMember>();
  let configs: ServerConfig[] = [];
  after(async () => {
    await Promise.all([...running.values()].map((m) => m.close()));
    for (const c of configs) rmSync(c.dataDir, { recursive: true, force: true });
  });

  test('restarts, installs the leader snapshot, and converges: HashKV, keys, leases, v2 keys', { timeout: 90_000 }, async () => {
    configs = await clusterConfigs(3, { token: 'snapshot-test', namePrefix: 's', extra: ['--snapshot-count=100'] });
    const started = await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })));
    started.forEach((m, i) => running.set(i, m));
    await Promise.all(started.map((m) => m.server.readyNotify()));
    await untilSlow('a leader every member knows', () => started.every((m) => m.server.leader !== 0n && m.server.leader === started[0]!.server.leader));
    const leader = started.find((m) => m.server.leader === m.server.memberId)!;
    const followerIndex = started.findIndex((m) => m !== leader);

    const before = await leader.server.lease!.leaseGrant({ TTL: 600, ID: 0n });
    await put(leader, 'leased-before', 'a', before.ID);
    await leader.server.v2.do({ Method: 'PUT', Path: '/1/before', Val: 'v2-a' });
    await untilSlow('the follower applied them', () => started[followerIndex]!.server.raftNode.appliedIndex >= leader.server.raftNode.committedIndex);
    const stoppedAt = started[followerIndex]!.server.raftNode.appliedIndex;
    await started[followerIndex]!.close();
    running.delete(followerIndex);

    // Enough entries that the leader's log no longer holds what the follower lacks.
    for (let i = 0; i < ENTRIES_WHILE_DOWN; i += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, j) => put(leader, `bulk/${(i + j) % 700}`, `v${i + j}`)));
    }
    const during = await leader.server.lease!.leaseGrant({ TTL: 600, ID: 0n });
    await put(leader, 'leased-during', 'b', during.ID);
    await leader.server.v2.do({ Method: 'PUT', Path: '/1/during', Val: 'v2-b' });
    await leader.server.compact({ revision: leader.server.kv.currentRev - 10, physical: true });
    assert.ok(leader.server.raftNode.snapshotIndex > stoppedAt + 5000, 'the leader snapshotted past the follower and its catch-up entries');

    const lines: string[] = [];
    const logger = createLogger({ level: 'info', sink: (line) => lines.push(line) });
    const back = await startMember(configs[followerIndex]!, logger, { exitProcess: false });
    running.set(followerIndex, back);
    await back.server.readyNotify();
    const target = leader.server.raftNode.committedIndex;
    await untilSlow('the restarted follower applied everything', () => back.server.raftNode.appliedIndex >= target);
    assert.ok(lines.some((l) => l.includes('"applied snapshot"')), 'the follower installed a snapshot');

    const rev = leader.server.kv.currentRev;
    assert.equal(back.server.kv.currentRev, rev);
    const [hl, hf] = await Promise.all([leader.server.hashKV({ revision: rev }), back.server.hashKV({ revision: rev })]);
    assert.equal(hf.hash, hl.hash, 'same HashKV at the same revision');
    assert.equal(hf.compactRevision, hl.compactRevision);
    assert.deepEqual(await keysOf(back), await keysOf(leader));
    assert.deepEqual(await leaseIds(back), [before.ID, during.ID].sort((a, b) => (a < b ? -1 : 1)));
    assert.deepEqual(await leaseIds(back), await leaseIds(leader));
    assert.equal(await v2Tree(back), await v2Tree(leader));
    assert.equal(back.server.membership.members().length, 3);

    // It keeps applying and serving after the install.
    await put(leader, 'after', 'c');
    await untilSlow('the follower applied the write after', () => back.server.kv.currentRev === leader.server.kv.currentRev);
    assert.deepEqual(await keysOf(back), await keysOf(leader));
  });

  test('a member added after the last snapshot catches up through a snapshot of today\'s membership', { timeout: 90_000 }, async () => {
    // The leader's log starts after its last snapshot, whose ConfState predates the new member:
    // raft refuses a snapshot that does not name its receiver, so the leader must send one of the
    // current state (etcd's merged snapshot), even with no write to trigger a newer one.
    const members = [...running.values()];
    const leader = members.find((m) => m.server.leader === m.server.memberId)!;
    assert.ok(leader.server.raftNode.snapshotIndex > 1, 'the log was compacted by the first test');
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    let added;
    for (let i = 0; added === undefined; i++) {
      try {
        added = await leader.server.memberAdd({ peerURLs: [peerUrl], isLearner: false });
      } catch (e) {
        // --strict-reconfig-check: every peer stream up for 5 s (the follower restarted just now).
        if (i > 80) throw e;
        await sleep(100);
      }
    }
    const initial = [...configs.map((c) => `${c.name}=${c.initialAdvertisePeerUrls[0]!.text}`), `s3=${peerUrl}`].join(',');
    const cfg = testConfig(
      tempDir('etcd-ts-snapshot-join-'),
      [
        `--listen-client-urls=http://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-token=snapshot-test',
        '--initial-cluster-state=existing',
        '--snapshot-count=100',
      ],
      's3',
    );
    configs.push(cfg);
    const joined = await startMember(cfg, quietLogger(), { exitProcess: false });
    running.set(running.size + 10, joined);
    assert.equal(joined.server.memberId, added.member!.ID);
    const target = leader.server.raftNode.committedIndex;
    await untilSlow('the new member applied everything', () => joined.server.raftNode.appliedIndex >= target);
    const rev = leader.server.kv.currentRev;
    await untilSlow('the new member at the leader\'s revision', () => joined.server.kv.currentRev === rev);
    assert.deepEqual(await keysOf(joined), await keysOf(leader));
    assert.equal(await v2Tree(joined), await v2Tree(leader));
    assert.equal(joined.server.membership.members().length, 4);
  });
});
