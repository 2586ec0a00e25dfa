import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDeleteRangeRequest, createPutRequest, createRangeRequest } from '../../api/gen/etcdserverpb.js';
import { GrpcStatus, type RpcError } from '../../api/rpctypes/index.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest } from './kv-request-checks.js';

const key = Buffer.from('foo');

function assertRefused(err: RpcError | undefined, status: GrpcStatus, text: string): void {
  assert.ok(err !== undefined, `expected "${text}"`);
  assert.equal(err.status, status);
  assert.equal(err.message, text);
}

test('range with an empty key is refused with etcd\'s empty-key error', () => {
  assertRefused(checkRangeRequest(createRangeRequest()), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided');
  assert.equal(checkRangeRequest(createRangeRequest({ key })), undefined);
});

test('range with every defined sort order and target passes', () => {
  for (let order = 0; order <= 2; order++) {
    for (let target = 0; target <= 4; target++) {
      assert.equal(checkRangeRequest(createRangeRequest({ key, sortOrder: order, sortTarget: target })), undefined, `${order}/${target}`);
    }
  }
});

test('range with an undefined sort order or target is refused as etcd 3.5 refuses it', () => {
  for (const [sortOrder, sortTarget] of [[3, 0], [-1, 0], [0, 5], [1, 99], [0, -2]]) {
    assertRefused(checkRangeRequest(createRangeRequest({ key, sortOrder, sortTarget })), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: invalid sort option');
  }
});

test('put with an empty key is refused before its other fields are looked at', () => {
  assertRefused(checkPutRequest(createPutRequest({ value: Buffer.from('v'), ignoreValue: true })), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided');
});

test('put with ignore_value and a value is refused with value-provided', () => {
  assertRefused(checkPutRequest(createPutRequest({ key, value: Buffer.from('v'), ignoreValue: true })), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: value is provided');
  assert.equal(checkPutRequest(createPutRequest({ key, ignoreValue: true })), undefined);
});

test('put with ignore_lease and a lease is refused with lease-provided', () => {
  assertRefused(checkPutRequest(createPutRequest({ key, lease: 7n, ignoreLease: true })), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: lease is provided');
  assert.equal(checkPutRequest(createPutRequest({ key, ignoreLease: true })), undefined);
  assert.equal(checkPutRequest(createPutRequest({ key, value: Buffer.from('v'), lease: 7n })), undefined);
});

test('delete with an empty key is refused; with a key it passes', () => {
  assertRefused(checkDeleteRequest(createDeleteRangeRequest({ rangeEnd: Buffer.from('z') })), GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided');
  assert.equal(checkDeleteRequest(createDeleteRangeRequest({ key })), undefined);
});
