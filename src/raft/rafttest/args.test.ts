import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType } from '../../api/raftpb/types.js';
import { CommandError, parseChanges, parseIdList, parseNodeIds } from './args.js';

test('parseIdList reads parenthesized, comma or space separated IDs', () => {
  assert.deepEqual(parseIdList('(1,2,3)'), [1n, 2n, 3n]);
  assert.deepEqual(parseIdList('(4 5)'), [4n, 5n]);
  assert.deepEqual(parseIdList('()'), []);
  assert.throws(() => parseIdList('(1,x)'), CommandError);
});

test('parseNodeIds keeps only the bare numbers of a command line', () => {
  assert.deepEqual(parseNodeIds(['1', 'drop=(2)', '3', 'foo']), [1, 3]);
});

test('parseChanges maps v/l/r/u letters to conf change types', () => {
  assert.deepEqual(parseChanges(['v4', 'l5', 'r2', 'u3']), [
    { type: ConfChangeType.ConfChangeAddNode, nodeId: 4n },
    { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 5n },
    { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n },
    { type: ConfChangeType.ConfChangeUpdateNode, nodeId: 3n },
  ]);
  assert.throws(() => parseChanges(['x1']), CommandError);
});
