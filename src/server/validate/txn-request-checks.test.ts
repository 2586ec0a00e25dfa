import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type RangeRequest_SortTarget,
  type RequestOp,
  type TxnRequest,
  createCompare,
  createDeleteRangeRequest,
  createPutRequest,
  createRangeRequest,
  createRequestOp,
  createTxnRequest,
} from '../../api/gen/etcdserverpb.js';
import { GrpcStatus } from '../../api/rpctypes/index.js';
import { seededRand } from '../../pkg/rand.js';
import { checkTxnRequest, txnOpCount } from './txn-request-checks.js';

const MAX = 128;
const TOO_MANY = 'etcdserver: too many operations in txn request';
const DUPLICATE = 'etcdserver: duplicate key given in txn request';
const EMPTY_KEY = 'etcdserver: key is not provided';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const put = (k: string): RequestOp => createRequestOp({ requestPut: createPutRequest({ key: b(k), value: b('v') }) });
const del = (k: string, end = ''): RequestOp => createRequestOp({ requestDeleteRange: createDeleteRangeRequest({ key: b(k), rangeEnd: b(end) }) });
const get = (k: string): RequestOp => createRequestOp({ requestRange: createRangeRequest({ key: b(k) }) });
const nested = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => createRequestOp({ requestTxn: createTxnRequest({ success, failure }) });
const txn = (success: RequestOp[], failure: RequestOp[] = [], compares = 0): TxnRequest =>
  createTxnRequest({ success, failure, compare: Array.from({ length: compares }, (_, i) => createCompare({ key: b(`c${i}`) })) });
const puts = (n: number, prefix = 'k'): RequestOp[] => Array.from({ length: n }, (_, i) => put(`${prefix}${i}`));

function message(req: TxnRequest, max = MAX): string | undefined {
  return checkTxnRequest(req, max)?.message;
}

test('a branch or compare list longer than max-txn-ops is refused with too-many-ops', () => {
  const err = checkTxnRequest(txn(puts(129)), MAX);
  assert.equal(err?.message, TOO_MANY);
  assert.equal(err?.status, GrpcStatus.INVALID_ARGUMENT);
  assert.equal(message(txn([], puts(129))), TOO_MANY);
  assert.equal(message(txn([], [], 129)), TOO_MANY);
});

test('the op count is the longest of compares, success and failure, not their sum', () => {
  const req = txn(puts(128, 's'), puts(128, 'f'), 128);
  assert.equal(txnOpCount(req), 128);
  assert.equal(message(req), undefined);
});

test('a nested txn may use only what its parent left of the limit', () => {
  assert.equal(message(txn([get('a'), nested(puts(126))])), undefined);
  assert.equal(message(txn([get('a'), nested(puts(127))])), TOO_MANY);
  assert.equal(message(txn([get('a'), nested([], puts(127))])), TOO_MANY);
  // Each level subtracts its own count: 3 - 1 leaves 2 to the middle txn, 2 - 1 leaves 1 inside.
  assert.equal(message(txn([nested([nested(puts(1))])]), 3), undefined);
  assert.equal(message(txn([nested([nested(puts(2))])]), 3), TOO_MANY);
});

test('a compare with an empty key is refused, after the op count', () => {
  assert.equal(message(createTxnRequest({ compare: [createCompare()], success: [put('a')] })), EMPTY_KEY);
  assert.equal(message(createTxnRequest({ compare: [createCompare()], success: puts(129) })), TOO_MANY);
});

test('nested requests are checked with the single-request rules', () => {
  assert.equal(message(txn([put('')])), EMPTY_KEY);
  assert.equal(message(txn([], [del('')])), EMPTY_KEY);
  assert.equal(message(txn([get('')])), EMPTY_KEY);
  const ignoreValue = createRequestOp({ requestPut: createPutRequest({ key: b('a'), value: b('v'), ignoreValue: true }) });
  assert.equal(message(txn([nested([ignoreValue])])), 'etcdserver: value is provided');
  const badSort = createRequestOp({ requestRange: createRangeRequest({ key: b('a'), sortTarget: 9 as RangeRequest_SortTarget }) });
  assert.equal(message(txn([badSort])), 'etcdserver: invalid sort option');
});

test('an operation with no request set is refused with key-not-found', () => {
  assert.equal(message(txn([createRequestOp()])), 'etcdserver: key not found');
  assert.equal(message(txn([nested([], [createRequestOp()])])), 'etcdserver: key not found');
});

test('single-request errors come before duplicate keys', () => {
  assert.equal(message(txn([put('a'), put('a'), put('')])), EMPTY_KEY);
});

test('a key put twice in one branch is refused with duplicate-key', () => {
  const err = checkTxnRequest(txn([put('a'), put('a')]), MAX);
  assert.equal(err?.message, DUPLICATE);
  assert.equal(err?.status, GrpcStatus.INVALID_ARGUMENT);
  assert.equal(message(txn([put('x')], [put('x'), put('x')])), DUPLICATE);
  assert.equal(message(txn([...puts(20), put('k7')])), DUPLICATE);
  assert.equal(message(txn([...puts(6), put('k5')])), DUPLICATE);
});

test('the same key in the two branches, in reads, or in many distinct puts passes', () => {
  assert.equal(message(txn([put('x')], [put('x')])), undefined);
  assert.equal(message(txn([get('a'), get('a'), put('b')])), undefined);
  assert.equal(message(txn(puts(8))), undefined);
  assert.equal(message(txn(puts(100))), undefined);
});

test('a put inside a delete of the same branch is refused; overlapping deletes pass', () => {
  assert.equal(message(txn([put('a'), del('a')])), DUPLICATE);
  assert.equal(message(txn([del('a'), put('a')])), DUPLICATE);
  assert.equal(message(txn([put('a1'), del('a', 'b')])), DUPLICATE);
  assert.equal(message(txn([put('b'), del('a', 'c')])), DUPLICATE);
  assert.equal(message(txn([put('c'), del('a', 'c')])), undefined, 'range end is exclusive');
  assert.equal(message(txn([put('a'), del('a1')])), undefined);
  assert.equal(message(txn([del('a', 'b'), del('a1'), del('a')])), undefined);
});

test('as in etcd 3.4, a from-key delete or an inverted range overlaps no put', () => {
  assert.equal(message(txn([put('b'), del('a', '\0')])), undefined);
  assert.equal(message(txn([put('b'), del('c', 'a')])), undefined);
});

test('nested txn puts collide with the parent branch\'s puts and deletes', () => {
  assert.equal(message(txn([put('a'), nested([put('a')])])), DUPLICATE);
  assert.equal(message(txn([del('a', 'b'), nested([], [put('a1')])])), DUPLICATE);
  assert.equal(message(txn([nested([del('a')]), put('a')])), DUPLICATE);
  assert.equal(message(txn([nested([put('a')]), nested([put('a')])])), DUPLICATE);
  assert.equal(message(txn([nested([put('a')]), nested([], [put('a')])])), DUPLICATE);
  assert.equal(message(txn([nested([del('a', 'z')]), nested([put('m')])])), DUPLICATE);
});

test('the two branches of one nested txn may put the same key', () => {
  assert.equal(message(txn([nested([put('x')], [put('x')])])), undefined);
  assert.equal(message(txn([nested([put('x')], [put('y')]), put('z')])), undefined);
});

test('as in etcd 3.4, a later nested delete does not collide with an earlier nested put', () => {
  assert.equal(message(txn([nested([put('a')]), nested([del('a')])])), undefined);
});

test('many range deletes give the same answers as a plain scan', () => {
  const rand = seededRand(42);
  const key = (): string => String.fromCharCode(97 + rand.intn(6), 97 + rand.intn(6));
  for (let round = 0; round < 300; round++) {
    const ranges: Array<[string, string]> = [];
    const keys: string[] = [];
    const ops: RequestOp[] = [];
    const nRanges = 17 + rand.intn(30);
    for (let i = 0; i < nRanges; i++) {
      const begin = key();
      const end = rand.intn(4) === 0 ? begin : key(); // some inverted or empty ranges
      ranges.push([begin, end]);
      ops.push(del(begin, end === begin ? `${begin}\0` : end));
    }
    const nPuts = 1 + rand.intn(4);
    for (let i = 0; i < nPuts; i++) {
      const k = key() + (rand.intn(2) === 0 ? '' : 'x');
      keys.push(k);
      ops.push(put(k));
    }
    const covered = keys.some((k, i) => keys.indexOf(k) !== i || ranges.some(([lo, hi]) => {
      const end = hi === lo ? `${lo}\0` : hi;
      return lo <= k && k < end;
    }));
    assert.equal(message(txn(ops, [], 0), 1000), covered ? DUPLICATE : undefined, `round ${round}`);
  }
});
