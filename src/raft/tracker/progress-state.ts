/** How the leader replicates to one follower (etcd's tracker.StateType). */
export enum ProgressState {
  /** The follower's match is unknown: send one append at a time and wait for its answer. */
  StateProbe = 0,
  /** The follower accepts appends: stream them, bounded by the inflights window. */
  StateReplicate = 1,
  /** The follower needs a snapshot; appends are paused until it has applied one. */
  StateSnapshot = 2,
}

const NAMES = ['StateProbe', 'StateReplicate', 'StateSnapshot'] as const;

/** The state's etcd name, e.g. `StateReplicate`. */
export function progressStateName(s: ProgressState): string {
  return NAMES[s] ?? `ProgressState(${s})`;
}
