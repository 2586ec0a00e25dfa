import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JointConfig, MajorityConfig, VoteResult } from '../quorum/index.js';
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import { ProgressTracker } from './progress-tracker.js';

function tracker(incoming: number[], outgoing: number[] = [], learners: number[] = []): ProgressTracker {
  const t = new ProgressTracker(10);
  t.config.voters = new JointConfig(new MajorityConfig(incoming.map(BigInt)), new MajorityConfig(outgoing.map(BigInt)));
  t.config.learners = new Set(learners.map(BigInt));
  for (const id of [...incoming, ...outgoing, ...learners]) {
    t.progress.set(BigInt(id), new Progress({ next: 1, inflights: new Inflights(10), isLearner: learners.includes(id) }));
  }
  return t;
}

test('committed uses the match of voters only, in both halves of a joint config', () => {
  const t = tracker([1, 2, 3], [], [6]);
  const set = (id: bigint, m: number) => (t.progress.get(id)!.match = m);
  set(1n, 10);
  set(2n, 8);
  set(3n, 2);
  set(6n, 100);
  assert.equal(t.committed(), 8);
  t.config.voters.outgoing = new MajorityConfig([3n, 4n, 5n]);
  t.progress.set(4n, new Progress({ match: 9, next: 10, inflights: new Inflights(10) }));
  t.progress.set(5n, new Progress({ match: 1, next: 2, inflights: new Inflights(10) }));
  // The outgoing half (3 4 5) has matches 2, 9, 1: a majority of it holds only 2.
  assert.equal(t.committed(), 2);
});

test('committed follows a replaced progress map', () => {
  const t = tracker([1]);
  t.progress = new Map([[1n, new Progress({ match: 42, next: 43, inflights: new Inflights(1) })]]);
  assert.equal(t.committed(), 42);
});

test('visit walks progresses in ascending ID order and supports nesting', () => {
  const t = tracker([30, 2, 17, 5], [], [9]);
  const seen: bigint[] = [];
  t.visit((id) => seen.push(id));
  assert.deepEqual(seen, [2n, 5n, 9n, 17n, 30n]);
  const pairs: string[] = [];
  t.visit((a) => t.visit((b) => pairs.push(`${a}-${b}`)));
  assert.equal(pairs.length, 25);
  assert.equal(pairs[0], '2-2');
  assert.equal(pairs[24], '30-30');
});

test('quorumActive counts recently active voters, not learners', () => {
  const t = tracker([1, 2, 3], [], [4]);
  assert.equal(t.quorumActive(), false);
  t.progress.get(1n)!.recentActive = true;
  t.progress.get(4n)!.recentActive = true;
  assert.equal(t.quorumActive(), false);
  t.progress.get(2n)!.recentActive = true;
  assert.equal(t.quorumActive(), true);
});

test('votes: first vote per peer counts; tally reports counts and the joint result', () => {
  const t = tracker([1, 2, 3], [3, 4, 5]);
  t.recordVote(1n, true);
  t.recordVote(1n, false);
  t.recordVote(2n, true);
  let r = t.tallyVotes();
  assert.deepEqual(r, { granted: 2, rejected: 0, result: VoteResult.VotePending });
  t.recordVote(4n, false);
  t.recordVote(5n, false);
  r = t.tallyVotes();
  assert.deepEqual(r, { granted: 2, rejected: 2, result: VoteResult.VoteLost });
  t.resetVotes();
  assert.deepEqual(t.tallyVotes(), { granted: 0, rejected: 0, result: VoteResult.VotePending });
});

test('confState, voterNodes, learnerNodes and isSingleton reflect the config', () => {
  const t = tracker([3, 1], [1, 2], [7, 6]);
  t.config.learnersNext = new Set([2n]);
  t.config.autoLeave = true;
  assert.deepEqual(t.confState(), { voters: [1n, 3n], votersOutgoing: [1n, 2n], learners: [6n, 7n], learnersNext: [2n], autoLeave: true });
  assert.deepEqual(t.voterNodes(), [1n, 2n, 3n]);
  assert.deepEqual(t.learnerNodes(), [6n, 7n]);
  assert.equal(t.isSingleton(), false);
  assert.equal(tracker([1]).isSingleton(), true);
  assert.equal(tracker([1], [1, 2]).isSingleton(), false);
});
