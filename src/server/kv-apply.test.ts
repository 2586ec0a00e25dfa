import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  Compare_CompareResult as R,
  Compare_CompareTarget as T,
  createCompare,
  createDeleteRangeRequest,
  createPutRequest,
  createRangeRequest,
  createTxnRequest,
  type Compare,
} from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import { Backend } from '../backend/backend.js';
import { KvStore } from '../mvcc/index.js';
import { applyPut, applyTxn, compareToPath, isTxnReadonly, isTxnSerializable, type LeaseLookup } from './kv-apply.js';
import { tempDir } from './test-member.js';

const enc = new TextEncoder();
const b = (s: string): Uint8Array => enc.encode(s);
const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function store(): KvStore {
  const kv = KvStore.open(Backend.open({ path: join(dir, `db${n++}`), unsafeNoSync: true }));
  kv.put(b('a'), b('1'));
  kv.put(b('b'), b('2'), 7n);
  kv.put(b('b'), b('3'), 7n);
  return kv;
}

const leases: LeaseLookup = { has: (id) => id === 7n };
const cmp = (c: Partial<Compare>): Compare => createCompare(c);

test('compares follow etcd: a missing key compares as zero, except a VALUE compare, which fails', () => {
  const kv = store();
  const path = (...compare: Compare[]): boolean => compareToPath(kv, createTxnRequest({ compare }))[0]!;
  assert.equal(path(cmp({ key: b('a'), target: T.VALUE, result: R.EQUAL, value: b('1') })), true);
  assert.equal(path(cmp({ key: b('b'), target: T.VERSION, result: R.EQUAL, version: 2 })), true);
  assert.equal(path(cmp({ key: b('b'), target: T.LEASE, result: R.EQUAL, lease: 7n })), true);
  assert.equal(path(cmp({ key: b('b'), target: T.MOD, result: R.GREATER, modRevision: 2 })), true);
  assert.equal(path(cmp({ key: b('a'), target: T.CREATE, result: R.LESS, createRevision: 2 })), false);
  assert.equal(path(cmp({ key: b('zz'), target: T.VERSION, result: R.EQUAL, version: 0 })), true);
  assert.equal(path(cmp({ key: b('zz'), target: T.CREATE, result: R.EQUAL, createRevision: 0 })), true);
  assert.equal(path(cmp({ key: b('zz'), target: T.VALUE, result: R.NOT_EQUAL, value: b('x') })), false);
  // Over a range every key must satisfy it.
  assert.equal(path(cmp({ key: b('a'), rangeEnd: b('c'), target: T.VERSION, result: R.GREATER, version: 0 })), true);
  assert.equal(path(cmp({ key: b('a'), rangeEnd: b('c'), target: T.VERSION, result: R.EQUAL, version: 1 })), false);
  assert.equal(path(cmp({ key: b('a'), rangeEnd: new Uint8Array([0]), target: T.VALUE, result: R.GREATER, value: b('0') })), true);
});

test('a txn checks its puts on the path taken only, and writes nothing when a check fails', () => {
  const kv = store();
  const rev = kv.currentRev;
  const bad = applyTxn(kv, leases, createTxnRequest({ success: [{ requestPut: createPutRequest({ key: b('x'), value: b('1'), lease: 99n }) }] }));
  assert.ok('err' in bad && isRpcError(bad.err, 'lease-not-found'));
  const missing = applyTxn(kv, leases, createTxnRequest({ success: [{ requestPut: createPutRequest({ key: b('nokey'), ignoreValue: true }) }] }));
  assert.ok('err' in missing && isRpcError(missing.err, 'key-not-found'));
  const future = applyTxn(kv, leases, createTxnRequest({ success: [{ requestRange: createRangeRequest({ key: b('a'), revision: 100 }) }] }));
  assert.ok('err' in future && isRpcError(future.err, 'future-rev'));
  assert.equal(kv.currentRev, rev);
  // The failing put sits on the branch not taken: fine.
  const ok = applyTxn(
    kv,
    leases,
    createTxnRequest({
      compare: [cmp({ key: b('a'), target: T.VALUE, result: R.EQUAL, value: b('1') })],
      success: [{ requestPut: createPutRequest({ key: b('a'), ignoreLease: true, value: b('9') }) }],
      failure: [{ requestPut: createPutRequest({ key: b('x'), lease: 99n }) }],
    }),
  );
  assert.ok('resp' in ok);
  assert.equal(ok.resp.header!.revision, rev + 1);
  assert.equal(ok.resp.responses[0]!.responsePut!.header!.revision, rev + 1);
});

test('a write txn reads its own writes; a read-only txn keeps the store revision', () => {
  const kv = store();
  const r = applyTxn(
    kv,
    leases,
    createTxnRequest({
      success: [
        { requestDeleteRange: createDeleteRangeRequest({ key: b('a') }) },
        { requestRange: createRangeRequest({ key: b('a'), rangeEnd: b('z') }) },
        { requestPut: createPutRequest({ key: b('c'), value: b('4') }) },
        { requestRange: createRangeRequest({ key: b('a'), rangeEnd: b('z'), countOnly: true }) },
      ],
    }),
  );
  assert.ok('resp' in r);
  const [, afterDelete, , afterPut] = r.resp.responses;
  assert.deepEqual(afterDelete!.responseRange!.kvs.map((kv) => kv.key), [b('b')]);
  assert.equal(afterDelete!.responseRange!.header!.revision, 5);
  assert.equal(afterPut!.responseRange!.count, 2);
  assert.equal(r.resp.header!.revision, 5);
  const ro = applyTxn(kv, leases, createTxnRequest({ success: [{ requestRange: createRangeRequest({ key: b('c') }) }] }));
  assert.ok('resp' in ro);
  assert.equal(ro.resp.header!.revision, 5);
  assert.equal(isTxnReadonly(createTxnRequest({ failure: [{ requestTxn: createTxnRequest({ success: [{ requestPut: createPutRequest({ key: b('q') }) }] }) }] })), false);
  assert.equal(isTxnSerializable(createTxnRequest({ success: [{ requestRange: createRangeRequest({ key: b('q'), serializable: true }) }] })), true);
  assert.equal(isTxnSerializable(createTxnRequest({ success: [{ requestRange: createRangeRequest({ key: b('q') }) }] })), false);
});

test('a put refuses an unknown lease and ignore_value on a missing key, and returns prev_kv', () => {
  const kv = store();
  const r1 = applyPut(kv, leases, createPutRequest({ key: b('a'), value: b('x'), lease: 5n }));
  assert.ok('err' in r1 && isRpcError(r1.err, 'lease-not-found'));
  const r2 = applyPut(kv, leases, createPutRequest({ key: b('q'), ignoreValue: true }));
  assert.ok('err' in r2 && isRpcError(r2.err, 'key-not-found'));
  const r3 = applyPut(kv, leases, createPutRequest({ key: b('b'), ignoreValue: true, prevKv: true }));
  assert.ok('resp' in r3);
  assert.deepEqual(r3.resp.prevKv?.value, b('3'));
  assert.equal(r3.resp.header!.revision, 5);
  // ignore_value alone keeps the value but not the lease (the request's lease, none, applies), as in etcd.
  const got = kv.range(b('b'));
  assert.ok(got.ok);
  const { createRevision, modRevision, version, lease } = got.kvs[0]!;
  assert.deepEqual({ createRevision, modRevision, version, lease, value: new TextDecoder().decode(got.kvs[0]!.value) }, { createRevision: 3, modRevision: 5, version: 3, lease: 0n, value: '3' });
});
