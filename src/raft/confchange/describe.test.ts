import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType } from '../../api/raftpb/types.js';
import { confChangesFromString, confChangesToString, confStateEquivalent, describeConfState } from './describe.js';

test('describeConfState prints every field as etcd logs it', () => {
  assert.equal(
    describeConfState({ voters: [1n, 2n], learners: [3n], votersOutgoing: [], learnersNext: [], autoLeave: false }),
    'Voters:[1 2] VotersOutgoing:[] Learners:[3] LearnersNext:[] AutoLeave:false',
  );
});

test('confStateEquivalent ignores ID order but not content', () => {
  const a = { voters: [1n, 2n, 3n], learners: [4n], votersOutgoing: [1n], learnersNext: [], autoLeave: true };
  assert.equal(confStateEquivalent(a, { ...a, voters: [3n, 1n, 2n] }), true);
  assert.equal(confStateEquivalent(a, { ...a, voters: [1n, 2n] }), false);
  assert.equal(confStateEquivalent(a, { ...a, learners: [5n] }), false);
  assert.equal(confStateEquivalent(a, { ...a, autoLeave: false }), false);
});

test('conf change strings parse and print', () => {
  const parsed = confChangesFromString(' v1 l2  r3 u18446744073709551615 ');
  assert.deepEqual(parsed, [
    { type: ConfChangeType.ConfChangeAddNode, nodeId: 1n },
    { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 2n },
    { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n },
    { type: ConfChangeType.ConfChangeUpdateNode, nodeId: 18446744073709551615n },
  ]);
  assert.equal(confChangesToString(parsed), 'v1 l2 r3 u18446744073709551615');
  assert.deepEqual(confChangesFromString(''), []);
  assert.throws(() => confChangesFromString('x1'), /unknown token x1/);
  assert.throws(() => confChangesFromString('v'), /unknown token v/);
});
