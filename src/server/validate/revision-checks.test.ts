import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcStatus } from '../../api/rpctypes/index.js';
import { checkCompactionRevision, checkHashKvRevision, checkRangeRevision } from './revision-checks.js';

const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';
const FUTURE = 'etcdserver: mvcc: required revision is a future revision';

test('compaction at or below the compacted revision is refused as compacted', () => {
  const err = checkCompactionRevision(5, 5, 10);
  assert.equal(err?.message, COMPACTED);
  assert.equal(err?.status, GrpcStatus.OUT_OF_RANGE);
  assert.equal(checkCompactionRevision(3, 5, 10)?.message, COMPACTED);
});

test('compaction beyond the current revision is refused as a future revision', () => {
  const err = checkCompactionRevision(11, 5, 10);
  assert.equal(err?.message, FUTURE);
  assert.equal(err?.status, GrpcStatus.OUT_OF_RANGE);
});

test('compaction between the compacted and the current revision passes, the current one included', () => {
  assert.equal(checkCompactionRevision(6, 5, 10), undefined);
  assert.equal(checkCompactionRevision(10, 5, 10), undefined);
});

test('range at the compacted revision passes, below it is compacted, above current is future', () => {
  assert.equal(checkRangeRevision(5, 5, 10), undefined);
  assert.equal(checkRangeRevision(0, 5, 10), undefined);
  assert.equal(checkRangeRevision(-3, 5, 10), undefined);
  assert.equal(checkRangeRevision(4, 5, 10)?.message, COMPACTED);
  assert.equal(checkRangeRevision(11, 5, 10)?.message, FUTURE);
});

test('hash kv at the compacted revision is compacted; 0 means current and passes', () => {
  assert.equal(checkHashKvRevision(5, 5, 10)?.message, COMPACTED);
  assert.equal(checkHashKvRevision(0, 5, 10), undefined);
  assert.equal(checkHashKvRevision(6, 5, 10), undefined);
  assert.equal(checkHashKvRevision(11, 5, 10)?.message, FUTURE);
});
