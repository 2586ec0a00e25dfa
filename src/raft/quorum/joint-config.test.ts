import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JointConfig } from './joint-config.js';
import { MajorityConfig } from './majority-config.js';
import { MapAckIndexer } from './acked-indexer.js';
import { VoteResult } from './vote-result.js';

const acks = (pairs: [number, number][]) => new MapAckIndexer(new Map(pairs.map(([id, i]) => [BigInt(id), i])));
const votes = (pairs: [number, boolean][]) => new Map(pairs.map(([id, v]) => [BigInt(id), v]));
const joint = (a: number[], b: number[]) =>
  new JointConfig(new MajorityConfig(a.map(BigInt)), new MajorityConfig(b.map(BigInt)));

test('a joint config with an empty outgoing half behaves like its incoming half', () => {
  const j = joint([1, 2, 3], []);
  assert.equal(j.committedIndex(acks([[1, 10], [2, 20], [3, 30]])), 20);
  assert.equal(j.voteResult(votes([[1, true], [2, true]])), VoteResult.VoteWon);
  assert.equal(j.isJoint(), false);
  assert.equal(j.toString(), '(1 2 3)');
});

test('joint committedIndex is the minimum of both halves', () => {
  const j = joint([1, 2, 3], [3, 4, 5]);
  // incoming commits 20 (1,2 hold it); outgoing only 5 (3 holds 30, 4 holds 5, 5 nothing).
  assert.equal(j.committedIndex(acks([[1, 20], [2, 20], [3, 30], [4, 5]])), 5);
  assert.equal(j.committedIndex(acks([[1, 20], [2, 20], [3, 30], [4, 25], [5, 25]])), 20);
});

test('joint voteResult needs both halves to win', () => {
  const j = joint([1, 2, 3], [3, 4, 5]);
  assert.equal(j.voteResult(votes([[1, true], [2, true]])), VoteResult.VotePending);
  assert.equal(j.voteResult(votes([[1, true], [2, true], [4, true], [5, true]])), VoteResult.VoteWon);
  assert.equal(j.voteResult(votes([[1, true], [2, true], [4, false], [5, false]])), VoteResult.VoteLost);
  assert.equal(j.voteResult(votes([[1, false], [2, false], [4, true], [5, true]])), VoteResult.VoteLost);
  assert.equal(j.voteResult(votes([[3, true], [1, false]])), VoteResult.VotePending);
});

test('joint ids, toString and clone', () => {
  const j = joint([1, 2, 3], [3, 4]);
  assert.deepEqual([...j.ids()].sort(), [1n, 2n, 3n, 4n]);
  assert.equal(j.toString(), '(1 2 3)&&(3 4)');
  const c = j.clone();
  c.incoming.ids.delete(1n);
  assert.equal(j.toString(), '(1 2 3)&&(3 4)');
  assert.equal(c.toString(), '(2 3)&&(3 4)');
});
