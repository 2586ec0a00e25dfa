import { ConfChangeType, type ConfChangeSingle, type ConfState } from '../../api/raftpb/types.js';
import { cloneTrackerConfig } from '../tracker/index.js';
import { Changer, type ChangeResult, type ChangerInputs } from './changer.js';

/**
 * Splits a ConfState into the changes that build its outgoing config from nothing, and the
 * changes that, applied on entering the joint config, turn that into the ConfState. For
 * voters=(1 2 3) learners=(5) outgoing=(1 2 4 6) learners_next=(4): outgoing = v1 v2 v4 v6,
 * incoming = r1 r2 r4 r6 v1 v2 v3 l5 l4.
 */
function toConfChangeSingles(cs: ConfState): { outgoing: ConfChangeSingle[]; incoming: ConfChangeSingle[] } {
  const outgoing: ConfChangeSingle[] = [];
  const incoming: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) outgoing.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: id });
  for (const id of cs.votersOutgoing) incoming.push({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id });
  for (const id of cs.voters) incoming.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: id });
  for (const id of cs.learners) incoming.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id });
  // Staged learners are outgoing voters: adding them as learners now stages them again.
  for (const id of cs.learnersNext) incoming.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: id });
  return { outgoing, incoming };
}

/**
 * Builds the config and progress map a ConfState describes (after a snapshot or a restart), by
 * running simple changes from an empty config and, if votersOutgoing is non-empty, entering the
 * joint config. `chg.tracker` must describe an empty config. New progresses start as the Changer
 * starts them.
 */
export function restore(chg: ChangerInputs, cs: ConfState): ChangeResult {
  const { outgoing, incoming } = toConfChangeSingles(cs);
  let cur = chg.tracker;
  const changer = () => new Changer(cur, chg.lastIndex, chg.maxInflight, chg.maxInflightBytes);
  let last: ChangeResult = {
    ok: true,
    config: cloneTrackerConfig(chg.tracker.config),
    progress: new Map(chg.tracker.progress),
  };
  const step = (r: ChangeResult): boolean => {
    last = r;
    if (!r.ok) return false;
    cur = { config: r.config, progress: r.progress };
    return true;
  };
  if (outgoing.length === 0) {
    // One change at a time: every step alters the voters by at most one.
    for (const cc of incoming) if (!step(changer().simple([cc]))) return last;
  } else {
    // Build the outgoing config as if it were the only one, then rotate it out by entering the
    // joint config with the incoming changes.
    for (const cc of outgoing) if (!step(changer().simple([cc]))) return last;
    step(changer().enterJoint(cs.autoLeave, incoming));
  }
  return last;
}
