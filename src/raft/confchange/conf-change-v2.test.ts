import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeTransition, ConfChangeType } from '../../api/raftpb/types.js';
import { confChangeToV2, enterJoint, leaveJoint, newConfChangeV2 } from './conf-change-v2.js';
import { confChangesFromString as ccs } from './describe.js';

const { ConfChangeTransitionAuto: Auto, ConfChangeTransitionJointImplicit: Implicit, ConfChangeTransitionJointExplicit: Explicit } =
  ConfChangeTransition;

test('confChangeToV2 carries the operation and context', () => {
  const context = new Uint8Array([1, 2]);
  const v2 = confChangeToV2({ id: 7n, type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n, context });
  assert.deepEqual(v2, { transition: Auto, changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 3n }], context });
});

test('enterJoint: joint for several changes or an explicit transition; autoLeave unless explicit', () => {
  assert.deepEqual(enterJoint(newConfChangeV2(ccs('v1'), Auto)), { autoLeave: false, ok: false });
  assert.deepEqual(enterJoint(newConfChangeV2([], Auto)), { autoLeave: false, ok: false });
  assert.deepEqual(enterJoint(newConfChangeV2(ccs('v1 v2'), Auto)), { autoLeave: true, ok: true });
  assert.deepEqual(enterJoint(newConfChangeV2(ccs('v1'), Implicit)), { autoLeave: true, ok: true });
  assert.deepEqual(enterJoint(newConfChangeV2(ccs('v1'), Explicit)), { autoLeave: false, ok: true });
  assert.deepEqual(enterJoint(newConfChangeV2([], Explicit)), { autoLeave: false, ok: true });
  assert.throws(() => enterJoint(newConfChangeV2(ccs('v1 v2'), 7 as ConfChangeTransition)));
});

test('leaveJoint only for an Auto change without operations', () => {
  assert.equal(leaveJoint(newConfChangeV2()), true);
  assert.equal(leaveJoint({ ...newConfChangeV2(), context: new Uint8Array([9]) }), true);
  assert.equal(leaveJoint(newConfChangeV2([], Implicit)), false);
  assert.equal(leaveJoint(newConfChangeV2(ccs('v1'))), false);
});
