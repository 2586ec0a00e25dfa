import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createPutRequest, createRangeRequest } from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import { SERVER_VERSION } from './config/version.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dir = tempDir();
let s: EtcdServer;

before(async () => {
  s = await EtcdServer.start(testConfig(dir), quietLogger());
  await s.readyNotify();
  for (let i = 0; i < 100; i++) await s.put(createPutRequest({ key: enc.encode(`k${i % 10}`), value: new Uint8Array(500).fill(i) }));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Maintenance and Cluster of one member', () => {
  test('status reports the leader, raft indexes, sizes and version with a filled header', async () => {
    const st = await s.status({});
    assert.equal(st.leader, s.memberId);
    assert.equal(st.version, SERVER_VERSION);
    assert.equal(st.raftTerm, 2);
    assert.ok(st.raftIndex >= 100 && st.raftAppliedIndex <= st.raftIndex);
    assert.ok(st.dbSize > 0 && st.dbSizeInUse > 0 && st.dbSizeInUse <= st.dbSize);
    assert.deepEqual(st.errors, []);
    assert.equal(st.isLearner, false);
    assert.deepEqual(st.header, { clusterId: s.clusterId, memberId: s.memberId, revision: 101, raftTerm: 2 });
  });

  test('hash and hashKV are stable over restarts of nothing and refuse compacted or future revisions', async () => {
    const h1 = await s.hash({});
    const h2 = await s.hash({});
    assert.equal(h1.hash, h2.hash);
    assert.equal(h1.header!.revision, 101);
    const kv1 = await s.hashKV({ revision: 0 });
    const kv2 = await s.hashKV({ revision: 101 });
    assert.equal(kv1.hash, kv2.hash);
    assert.equal(kv1.compactRevision, -1);
    const older = await s.hashKV({ revision: 50 });
    assert.notEqual(older.hash, kv1.hash);
    await assert.rejects(s.hashKV({ revision: 500 }), (e) => isRpcError(e, 'future-rev'));
  });

  test('defragment keeps every key and the KV hash, while writes and reads made meanwhile wait for it', async () => {
    const before = await s.hashKV({ revision: 0 });
    const defrag = s.defragment({});
    const put = s.put(createPutRequest({ key: enc.encode('during'), value: enc.encode('defrag') }));
    const read = s.range(createRangeRequest({ key: enc.encode('k1'), serializable: true }));
    assert.deepEqual(await defrag, {});
    assert.equal((await put).header!.revision, 102);
    assert.equal((await read).count, 1);
    const afterDefrag = await s.hashKV({ revision: 101 });
    assert.equal(afterDefrag.hash, before.hash);
  });

  test('the snapshot stream is the whole backend followed by its SHA-256, counting down remaining bytes', async () => {
    const chunks: Uint8Array[] = [];
    const remaining: number[] = [];
    let firstHeader;
    for await (const msg of s.snapshot({})) {
      firstHeader ??= msg.header;
      chunks.push(msg.blob);
      remaining.push(msg.remainingBytes);
    }
    const sha = chunks.pop()!;
    assert.equal(remaining.pop(), 0);
    const data = Buffer.concat(chunks);
    assert.equal(remaining[0], data.length - chunks[0]!.length);
    assert.equal(remaining[remaining.length - 1], 0);
    assert.deepEqual(Buffer.from(sha), createHash('sha256').update(data).digest());
    assert.equal(firstHeader?.memberId, s.memberId);
  });

  test('moveLeader to itself succeeds at once; an unknown target is a bad transferee', async () => {
    assert.deepEqual(await s.moveLeader({ targetID: s.memberId }), {});
    await assert.rejects(s.moveLeader({ targetID: 42n }), (e) => isRpcError(e, 'bad-leader-transferee'));
  });

  test('membership changes are checked with catalogued errors; one learner may be added', async () => {
    const added = await s.memberAdd({ peerURLs: ['http://10.0.0.2:2380'], isLearner: true });
    assert.equal(added.members.length, 2);
    await assert.rejects(s.memberAdd({ peerURLs: ['http://10.0.0.3:2380'], isLearner: true }), (e) => isRpcError(e, 'too-many-learners'));
    await assert.rejects(s.memberPromote({ ID: added.member!.ID }), (e) => isRpcError(e, 'learner-not-ready'));
    await assert.rejects(s.memberAdd({ peerURLs: ['http://127.0.0.1:2380'], isLearner: false }), (e) => isRpcError(e, 'peer-url-exist'));
    await assert.rejects(s.memberAdd({ peerURLs: ['::bad'], isLearner: false }), (e) => isRpcError(e, 'member-bad-urls'));
    await assert.rejects(s.memberRemove({ ID: 42n }), (e) => isRpcError(e, 'member-not-found'));
    await assert.rejects(s.memberPromote({ ID: s.memberId }), (e) => isRpcError(e, 'member-not-learner'));
    await assert.rejects(s.memberUpdate({ ID: 42n, peerURLs: [] }), (e) => isRpcError(e, 'member-not-found'));
  });
});

test('after stop, requests fail with etcdserver: server stopped', async () => {
  const d = tempDir();
  const m = await EtcdServer.start(testConfig(d), quietLogger());
  await m.readyNotify();
  await m.stop();
  await assert.rejects(m.put(createPutRequest({ key: enc.encode('x'), value: enc.encode('y') })), (e) => isRpcError(e, 'stopped'));
  await assert.rejects(m.range(createRangeRequest({ key: enc.encode('x') })), (e) => isRpcError(e, 'stopped'));
  assert.equal((await m.health()).health, false);
  rmSync(d, { recursive: true, force: true });
});
