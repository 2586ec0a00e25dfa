import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeTransition, ConfChangeType } from '../api/raftpb/types.js';
import { marshalConfChange, marshalConfChangeV2, unmarshalConfChange, unmarshalConfChangeV2 } from './conf-change-codec.js';

const EMPTY = new Uint8Array(0);

test('ConfChange encodes id, type and node id always and context only when set, as etcd does', () => {
  const bytes = marshalConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: 1n, context: EMPTY });
  assert.deepEqual([...bytes], [0x08, 0x00, 0x10, 0x00, 0x18, 0x01]);
  const withCtx = marshalConfChange({ id: 5n, type: ConfChangeType.ConfChangeRemoveNode, nodeId: 300n, context: new Uint8Array([7]) });
  assert.deepEqual([...withCtx], [0x08, 0x05, 0x10, 0x01, 0x18, 0xac, 0x02, 0x22, 0x01, 0x07]);
});

test('ConfChange round-trips, including 64-bit node IDs', () => {
  const cc = { id: 42n, type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 0xfedcba9876543210n, context: new Uint8Array([1, 2, 3]) };
  assert.deepEqual(unmarshalConfChange(marshalConfChange(cc)), cc);
});

test('ConfChangeV2 round-trips and empty data decodes as the empty change that leaves a joint config', () => {
  const cc = {
    transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
    changes: [
      { type: ConfChangeType.ConfChangeAddNode, nodeId: 4n },
      { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 2n },
    ],
    context: new Uint8Array([9]),
  };
  assert.deepEqual(unmarshalConfChangeV2(marshalConfChangeV2(cc)), cc);
  assert.deepEqual(unmarshalConfChangeV2(EMPTY), { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [], context: EMPTY });
  const empty = marshalConfChangeV2({ transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [], context: EMPTY });
  assert.deepEqual([...empty], [0x08, 0x00]);
});

test('malformed conf change data throws', () => {
  assert.throws(() => unmarshalConfChange(new Uint8Array([0x08])));
  assert.throws(() => unmarshalConfChangeV2(new Uint8Array([0x12, 0x05, 0x08])));
});
