import {
  ConfChangeTransition,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../../api/raftpb/types.js';

/** The V2 form of a legacy single change (same operation, same context). */
export function confChangeToV2(cc: ConfChange): ConfChangeV2 {
  return {
    transition: ConfChangeTransition.ConfChangeTransitionAuto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/**
 * Whether applying `cc` enters a joint config (`ok`), which it does when it holds more than one
 * change or asks for a joint transition explicitly; and if so whether raft leaves the joint
 * config by itself (`autoLeave`: every transition but JointExplicit).
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean; ok: boolean } {
  // Some multi-change sets could be done without joint consensus, but that depends on the config
  // they apply to; using joint consensus whenever there is more than one change keeps this simple.
  if (cc.transition === ConfChangeTransition.ConfChangeTransitionAuto && cc.changes.length <= 1) {
    return { autoLeave: false, ok: false };
  }
  switch (cc.transition) {
    case ConfChangeTransition.ConfChangeTransitionAuto:
    case ConfChangeTransition.ConfChangeTransitionJointImplicit:
      return { autoLeave: true, ok: true };
    case ConfChangeTransition.ConfChangeTransitionJointExplicit:
      return { autoLeave: false, ok: true };
    default:
      throw new Error(`unknown conf change transition ${cc.transition as number}`);
  }
}

/** Whether `cc` leaves a joint config: an Auto transition with no changes (context aside). */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.ConfChangeTransitionAuto && cc.changes.length === 0;
}

/** An Auto V2 change with the given operations, or the empty change that leaves a joint config. */
export function newConfChangeV2(changes: ConfChangeSingle[] = [], transition = ConfChangeTransition.ConfChangeTransitionAuto): ConfChangeV2 {
  return { transition, changes, context: new Uint8Array(0) };
}
