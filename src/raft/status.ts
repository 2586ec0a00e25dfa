import { describeTrackerConfig } from './tracker/index.js';
import type { Raft } from './raft.js';
import type { ProgressStatus, Status } from './ready.js';
import { StateType } from './ready.js';

/** A snapshot of raft's state for monitoring; progress is copied only on the leader. */
export function getStatus(r: Raft): Status {
  const progress = new Map<bigint, ProgressStatus>();
  if (r.state === StateType.StateLeader) {
    r.trk.visit((id, pr) => {
      progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner });
    });
  }
  return {
    id: r.id,
    hardState: r.hardState(),
    softState: r.softState(),
    applied: r.raftLog.applied,
    progress,
    leadTransferee: r.leadTransferee,
    config: describeTrackerConfig(r.trk.config),
  };
}
