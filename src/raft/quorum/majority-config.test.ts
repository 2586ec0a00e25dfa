import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MajorityConfig } from './majority-config.js';
import { INDEX_INFINITY, MapAckIndexer } from './acked-indexer.js';
import { VoteResult } from './vote-result.js';

const acks = (pairs: [number, number][]) => new MapAckIndexer(new Map(pairs.map(([id, i]) => [BigInt(id), i])));
const votes = (pairs: [number, boolean][]) => new Map(pairs.map(([id, v]) => [BigInt(id), v]));

test('committedIndex of an empty majority config is infinity', () => {
  assert.equal(new MajorityConfig().committedIndex(acks([])), INDEX_INFINITY);
});

test('committedIndex of a single voter is its acked index, or 0 when it has not acked', () => {
  const c = new MajorityConfig([1n]);
  assert.equal(c.committedIndex(acks([[1, 7]])), 7);
  assert.equal(c.committedIndex(acks([])), 0);
});

test('committedIndex is the highest index held by a majority', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(c.committedIndex(acks([[1, 100], [2, 101], [3, 99]])), 100);
  assert.equal(c.committedIndex(acks([[1, 5], [2, 5], [3, 1]])), 5);
  const five = new MajorityConfig([1n, 2n, 3n, 4n, 5n]);
  assert.equal(five.committedIndex(acks([[1, 9], [2, 8], [3, 7], [4, 6], [5, 5]])), 7);
});

test('committedIndex counts missing acks as zero', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(c.committedIndex(acks([[1, 100]])), 0);
  assert.equal(c.committedIndex(acks([[1, 100], [2, 50]])), 50);
  const four = new MajorityConfig([1n, 2n, 3n, 4n]);
  // Four voters need three acks: with two reported, nothing is committed.
  assert.equal(four.committedIndex(acks([[1, 10], [2, 10]])), 0);
  assert.equal(four.committedIndex(acks([[1, 10], [2, 10], [3, 4]])), 4);
});

test('committedIndex ignores acks from non-voters', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(c.committedIndex(acks([[1, 9], [4, 9], [5, 9]])), 0);
});

test('committedIndex handles duplicated indexes', () => {
  const c = new MajorityConfig([1n, 2n, 3n, 4n, 5n]);
  assert.equal(c.committedIndex(acks([[1, 3], [2, 3], [3, 3], [4, 3], [5, 3]])), 3);
  assert.equal(c.committedIndex(acks([[1, 3], [2, 3], [3, 2], [4, 2], [5, 2]])), 2);
});

test('committedIndex stays correct when the config grows and shrinks between calls', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  const a = acks([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  assert.equal(c.committedIndex(a), 2);
  c.ids.add(4n);
  c.ids.add(5n);
  assert.equal(c.committedIndex(a), 3);
  c.ids.delete(1n);
  c.ids.delete(2n);
  assert.equal(c.committedIndex(a), 4);
});

test('voteResult of an empty config is won', () => {
  assert.equal(new MajorityConfig().voteResult(votes([])), VoteResult.VoteWon);
});

test('voteResult is won, lost or pending by majority', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(c.voteResult(votes([])), VoteResult.VotePending);
  assert.equal(c.voteResult(votes([[1, true]])), VoteResult.VotePending);
  assert.equal(c.voteResult(votes([[1, true], [2, true]])), VoteResult.VoteWon);
  assert.equal(c.voteResult(votes([[1, true], [2, false]])), VoteResult.VotePending);
  assert.equal(c.voteResult(votes([[1, false], [2, false]])), VoteResult.VoteLost);
  assert.equal(c.voteResult(votes([[1, true], [2, false], [3, false]])), VoteResult.VoteLost);
});

test('voteResult ignores votes from non-voters', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(c.voteResult(votes([[1, true], [4, true], [5, true]])), VoteResult.VotePending);
});

test('voteResult with an even number of voters needs more than half', () => {
  const c = new MajorityConfig([1n, 2n, 3n, 4n]);
  assert.equal(c.voteResult(votes([[1, true], [2, true], [3, false], [4, false]])), VoteResult.VoteLost);
  assert.equal(c.voteResult(votes([[1, true], [2, true], [3, false]])), VoteResult.VotePending);
  assert.equal(c.voteResult(votes([[1, true], [2, true], [3, true]])), VoteResult.VoteWon);
});

test('slice and toString list IDs in ascending order', () => {
  const c = new MajorityConfig([10n, 2n, 0xffffffffffffffffn, 3n]);
  assert.deepEqual(c.slice(), [2n, 3n, 10n, 0xffffffffffffffffn]);
  assert.equal(c.toString(), '(2 3 10 18446744073709551615)');
  assert.equal(new MajorityConfig().toString(), '()');
});

test('describe draws one bar per voter and marks missing acks', () => {
  const c = new MajorityConfig([1n, 2n, 3n]);
  assert.equal(
    c.describe(acks([[1, 100], [2, 101]])),
    ['       idx', 'x>     100    (id=1)', 'xx>    101    (id=2)', '?        0    (id=3)', ''].join('\n'),
  );
  assert.equal(new MajorityConfig().describe(acks([])), '<empty majority quorum>');
});
