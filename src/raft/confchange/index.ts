/** Membership changes: validating and applying simple and joint conf changes, and restoring a ConfState. */
export { Changer, checkInvariants, type ChangeResult, type ChangerInputs, type ChangerTracker } from './changer.js';
export { restore } from './restore.js';
export { confChangeToV2, enterJoint, leaveJoint, newConfChangeV2 } from './conf-change-v2.js';
export { describeConfState, confStateEquivalent, confChangesFromString, confChangesToString } from './describe.js';
