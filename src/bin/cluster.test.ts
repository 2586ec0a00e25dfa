// In-process clusters of real members (server, peer transport, gRPC listeners) over loopback sockets.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRpcError } from '../api/rpctypes/index.js';
import type { ServerConfig } from '../server/config/server-config.js';
import { quietLogger, tempDir, testConfig } from '../server/test-member.js';
import { startMember, type RunningMember } from './start-member.js';
import { freePort, clusterConfigs, until } from './test-cluster.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function getValue(m: RunningMember, key: string, serializable = false): Promise<string | undefined> {
  const r = await m.server.range({ key: enc.encode(key), rangeEnd: new Uint8Array(0), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 });
  const kv = r.kvs[0];
  return kv === undefined ? undefined : dec.decode(kv.value);
}

async function put(m: RunningMember, key: string, value: string): Promise<void> {
  await m.server.put({ key: enc.encode(key), value: enc.encode(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });
}

describe('a 3-member cluster in one process', () => {
  const running = new Map<number, RunningMember>();
  let configs: ServerConfig[] = [];
  after(async () => {
    await Promise.all([...running.values()].map((m) => m.close()));
    for (const c of configs) rmSync(c.dataDir, { recursive: true, force: true });
  });

  const members = (): RunningMember[] => [...running.values()];
  const leaderOf = (): RunningMember | undefined => members().find((m) => m.server.leader === m.server.memberId);

  test('elects one leader that every member knows, and every member serves', async () => {
    configs = await clusterConfigs(3);
    const started = await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })));
    started.forEach((m, i) => running.set(i, m));
    await Promise.all(started.map((m) => m.server.readyNotify()));
    await until('all members agree on a leader', () => {
      const l = leaderOf();
      return l !== undefined && members().every((m) => m.server.leader === l.server.memberId);
    });
    const ids = new Set(members().map((m) => m.server.clusterId));
    assert.equal(ids.size, 1, 'one cluster ID');
    const status = await Promise.all(members().map((m) => m.server.status({})));
    assert.ok(status.every((s) => s.leader === status[0]!.leader && s.raftTerm === status[0]!.raftTerm));
  });

  test('writes on any member are read on every member', async () => {
    for (const [i, m] of running) await put(m, `k${i}`, `from-${i}`);
    for (const m of members()) {
      for (const i of running.keys()) assert.equal(await getValue(m, `k${i}`), `from-${i}`);
    }
  });

  test('member list shows every member with its published name and client URLs', async () => {
    await until('every member published', () => members().every((m) => m.server.membership.members().every((x) => x.name !== '')));
    for (const m of members()) {
      const r = await m.server.memberList({ linearizable: false });
      assert.deepEqual(
        r.members.map((x) => x.name).sort(),
        ['m0', 'm1', 'm2'],
      );
      assert.ok(r.members.every((x) => x.clientURLs.length === 1 && x.peerURLs.length === 1));
      assert.equal(r.header?.clusterId, m.server.clusterId);
    }
  });

  test('losing the leader elects another and keeps every acknowledged write; the old leader catches up on restart', async () => {
    for (let i = 0; i < 50; i++) await put(members()[i % 3]!, `seq${i}`, `${i}`);
    const old = leaderOf()!;
    const oldIndex = [...running].find(([, m]) => m === old)![0];
    await old.close();
    running.delete(oldIndex);
    await until('a new leader', () => {
      const l = leaderOf();
      return l !== undefined && members().every((m) => m.server.leader === l.server.memberId);
    });
    for (const m of members()) for (let i = 0; i < 50; i += 7) assert.equal(await getValue(m, `seq${i}`), `${i}`);
    await put(members()[0]!, 'while-down', 'yes');
    const back = await startMember(configs[oldIndex]!, quietLogger(), { exitProcess: false });
    running.set(oldIndex, back);
    await back.server.readyNotify();
    await until('the restarted member applied the write made while it was down', () => back.server.raftNode.appliedIndex >= members()[0]!.server.raftNode.committedIndex);
    assert.equal(await getValue(back, 'while-down', true), 'yes');
    assert.equal(await getValue(back, 'seq49'), '49');
  });
});

describe('membership changes in a running cluster', () => {
  const running: RunningMember[] = [];
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(running.map((m) => m.close()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a learner joins through the peer port, is refused linearizable reads, is promoted, then removed and stops', async () => {
    const configs = await clusterConfigs(3, { token: 'membership-test' });
    for (const c of configs) dirs.push(c.dataDir);
    running.push(...(await Promise.all(configs.map((c) => startMember(c, quietLogger(), { exitProcess: false })))));
    await Promise.all(running.map((m) => m.server.readyNotify()));
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const follower = running.find((m) => m.server.leader !== m.server.memberId && m.server.leader !== 0n) ?? running[0]!;
    // With --strict-reconfig-check (the default) every peer stream must be up for 5 s first.
    await assert.rejects(follower.server.memberAdd({ peerURLs: [peerUrl], isLearner: true }), (e) => isRpcError(e, 'unhealthy'));
    await sleep(5200);
    const added = await follower.server.memberAdd({ peerURLs: [peerUrl], isLearner: true });
    assert.equal(added.member?.isLearner, true);
    assert.equal(added.members.length, 4);
    await assert.rejects(follower.server.memberAdd({ peerURLs: ['http://127.0.0.1:1'], isLearner: true }), (e) => isRpcError(e, 'too-many-learners'));
    await put(running[0]!, 'before-join', 'x');

    const initial = [...configs.map((c) => `${c.name}=${c.initialAdvertisePeerUrls[0]!.text}`), `m3=${peerUrl}`].join(',');
    const cfg = testConfig(
      tempDir('etcd-ts-cluster-'),
      [
        `--listen-client-urls=http://127.0.0.1:${clientPort}`,
        `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-token=membership-test',
        '--initial-cluster-state=existing',
      ],
      'm3',
    );
    dirs.push(cfg.dataDir);
    const learner = await startMember(cfg, quietLogger(), { exitProcess: false });
    running.push(learner);
    assert.equal(learner.server.memberId, added.member!.ID);
    await learner.server.readyNotify();
    await until('the learner caught up', async () => learner.server.raftNode.appliedIndex >= running[0]!.server.raftNode.committedIndex);
    assert.equal(await getValue(learner, 'before-join', true), 'x');
    await assert.rejects(getValue(learner, 'before-join'), (e) => isRpcError(e, 'not-supported-for-learner'));

    let promoted = false;
    for (let i = 0; i < 50 && !promoted; i++) {
      try {
        await follower.server.memberPromote({ ID: learner.server.memberId });
        promoted = true;
      } catch (e) {
        if (!isRpcError(e, 'learner-not-ready')) throw e;
        await sleep(100);
      }
    }
    assert.ok(promoted, 'the learner was promoted once in sync');
    await until('every member sees 4 voters', () => running.every((m) => m.server.membership.members().filter((x) => !x.isLearner).length === 4));
    assert.equal(await getValue(learner, 'before-join'), 'x');

    const removed = await running[0]!.server.memberRemove({ ID: learner.server.memberId });
    assert.equal(removed.members.length, 3);
    await learner.server.removed;
    await put(running[0]!, 'after-remove', 'y');
    assert.equal(await getValue(running[1]!, 'after-remove'), 'y');
  });
});
