import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createDeleteRangeRequest, createPutRequest, createRangeRequest, createTxnRequest, Compare_CompareResult, Compare_CompareTarget } from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import { computeClusterId, computeMemberId } from './config/ids.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startIn(dir: string, flags: string[] = []): Promise<EtcdServer> {
  const s = await EtcdServer.start(testConfig(dir, flags), quietLogger());
  await s.readyNotify();
  return s;
}

function freshDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

describe('EtcdServer, one member', () => {
  test('a new member elects itself, publishes itself and serves puts and reads with etcd headers', async () => {
    const dir = freshDir();
    const s = await startIn(dir);
    try {
      const id = computeMemberId(['http://127.0.0.1:2380'], 'etcd-cluster');
      assert.equal(s.memberId, id);
      assert.equal(s.clusterId, computeClusterId([id]));
      const put = await s.put(createPutRequest({ key: b('foo'), value: b('bar') }));
      assert.deepEqual(put.header, { clusterId: s.clusterId, memberId: s.memberId, revision: 2, raftTerm: 2 });
      const got = await s.range(createRangeRequest({ key: b('foo') }));
      assert.equal(got.count, 1);
      assert.equal(dec.decode(got.kvs[0]!.value), 'bar');
      assert.equal(got.header!.revision, 2);
      const list = await s.memberList({});
      assert.equal(list.members.length, 1);
      assert.equal(list.members[0]!.name, 'test');
      assert.deepEqual(list.members[0]!.clientURLs, ['http://127.0.0.1:2379']);
      assert.equal(list.header!.revision, 0);
      assert.equal(s.clusterVersion(), '3.4.0');
    } finally {
      await s.stop();
    }
  });

  test('a restart keeps every key, the history and the revision counter', async () => {
    const dir = freshDir();
    let s = await startIn(dir);
    for (let i = 0; i < 20; i++) await s.put(createPutRequest({ key: b(`k${i % 5}`), value: b(`v${i}`) }));
    await s.deleteRange(createDeleteRangeRequest({ key: b('k0') }));
    await s.compact({ revision: 5, physical: true });
    const before = await s.range(createRangeRequest({ key: b('k'), rangeEnd: b('l') }));
    assert.equal(before.header!.revision, 22);
    await s.stop();

    s = await startIn(dir);
    try {
      const afterRestart = await s.range(createRangeRequest({ key: b('k'), rangeEnd: b('l') }));
      assert.deepEqual(afterRestart.kvs, before.kvs);
      assert.equal(afterRestart.header!.revision, 22);
      const old = await s.range(createRangeRequest({ key: b('k1'), revision: 12 }));
      assert.equal(dec.decode(old.kvs[0]!.value), 'v6');
      await assert.rejects(s.range(createRangeRequest({ key: b('k1'), revision: 4 })), (e) => isRpcError(e, 'compacted'));
      const put = await s.put(createPutRequest({ key: b('after'), value: b('x') }));
      assert.equal(put.header!.revision, 23);
      assert.equal(put.header!.raftTerm, 3);
    } finally {
      await s.stop();
    }
  });

  test('txn evaluates compares, runs the branch taken and reports nested results', async () => {
    const s = await startIn(freshDir());
    try {
      await s.put(createPutRequest({ key: b('a'), value: b('1') }));
      const t = await s.txn(
        createTxnRequest({
          compare: [{ result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.VALUE, key: b('a'), value: b('1'), rangeEnd: new Uint8Array(0) }],
          success: [
            { requestPut: createPutRequest({ key: b('b'), value: b('2'), prevKv: true }) },
            { requestRange: createRangeRequest({ key: b('a') }) },
            {
              requestTxn: createTxnRequest({
                compare: [{ result: Compare_CompareResult.GREATER, target: Compare_CompareTarget.VERSION, key: b('zz'), version: 0, rangeEnd: new Uint8Array(0) }],
                success: [{ requestPut: createPutRequest({ key: b('never'), value: b('x') }) }],
                failure: [{ requestDeleteRange: createDeleteRangeRequest({ key: b('a'), prevKv: true }) }],
              }),
            },
          ],
          failure: [{ requestPut: createPutRequest({ key: b('c'), value: b('3') }) }],
        }),
      );
      assert.equal(t.succeeded, true);
      assert.equal(t.header!.revision, 3);
      assert.equal(t.responses[0]!.responsePut!.header!.revision, 3);
      assert.equal(t.responses[1]!.responseRange!.count, 1);
      const nested = t.responses[2]!.responseTxn!;
      assert.equal(nested.succeeded, false);
      assert.equal(nested.header!.revision, 0);
      assert.equal(nested.responses[0]!.responseDeleteRange!.deleted, 1);
      assert.equal(dec.decode(nested.responses[0]!.responseDeleteRange!.prevKvs[0]!.value), '1');
      const all = await s.range(createRangeRequest({ key: b('\0'), rangeEnd: b('\0') }));
      assert.deepEqual(
        all.kvs.map((kv) => dec.decode(kv.key)),
        ['b'],
      );
      await assert.rejects(
        s.txn(createTxnRequest({ success: [{ requestPut: createPutRequest({ key: b('x'), value: b('1') }) }, { requestPut: createPutRequest({ key: b('x'), value: b('2') }) }] })),
        (e) => isRpcError(e, 'duplicate-key'),
      );
      await assert.rejects(s.put(createPutRequest({ key: b('x'), value: b('y'), lease: 1234n })), (e) => isRpcError(e, 'lease-not-found'));
      await assert.rejects(s.put(createPutRequest({ key: b('nokey'), ignoreValue: true })), (e) => isRpcError(e, 'key-not-found'));
      await assert.rejects(s.put(createPutRequest({ key: new Uint8Array(0), value: b('v') })), (e) => isRpcError(e, 'empty-key'));
      const big = new Uint8Array(1_600_000);
      await assert.rejects(s.put(createPutRequest({ key: b('big'), value: big })), (e) => isRpcError(e, 'request-too-large'));
      const r = await s.range(createRangeRequest({ key: b('a') }));
      assert.equal(r.header!.revision, 3);
    } finally {
      await s.stop();
    }
  });
});

describe('EtcdServer without a leader', () => {
  test('requests fail with etcdserver: no leader after the request timeout, and health says why', async () => {
    const dir = freshDir();
    // Two of three members never start: this one can never win an election.
    const cfg = testConfig(dir, ['--initial-cluster=test=http://127.0.0.1:2380,b=http://127.0.0.1:2381,c=http://127.0.0.1:2382']);
    const s = await EtcdServer.start(cfg, quietLogger(), { requestTimeoutMs: 300 });
    try {
      await assert.rejects(s.put(createPutRequest({ key: b('x'), value: b('y') })), (e) => isRpcError(e, 'no-leader'));
      await assert.rejects(s.range(createRangeRequest({ key: b('x') })), (e) => isRpcError(e, 'no-leader'));
      assert.deepEqual(await s.health(), { health: false, reason: 'RAFT NO LEADER' });
      const st = await s.status({});
      assert.deepEqual(st.errors, ['etcdserver: no leader']);
      assert.equal(st.leader, 0n);
    } finally {
      await s.stop();
    }
  });
});
