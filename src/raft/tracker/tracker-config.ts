import { JointConfig, MajorityConfig } from '../quorum/index.js';

/**
 * The active membership. Invariants (checked by the conf changer): learners and voters (either
 * half) are disjoint; learnersNext ⊆ outgoing voters and is empty unless joint; autoLeave only
 * while joint.
 */
export interface TrackerConfig {
  /** Voters; `outgoing` is non-empty exactly while a joint change is in progress. */
  voters: JointConfig;
  /** While joint: leave the joint config automatically once it is committed. */
  autoLeave: boolean;
  /** Peers that receive the log but do not vote. */
  learners: Set<bigint>;
  /**
   * Voters of the outgoing config being demoted: they become learners when the joint config is
   * left (they cannot be voter and learner at once).
   */
  learnersNext: Set<bigint>;
}

/** An empty config: no voters, no learners. */
export function emptyTrackerConfig(): TrackerConfig {
  return { voters: new JointConfig(), autoLeave: false, learners: new Set(), learnersNext: new Set() };
}

/** A copy sharing nothing with `c`. */
export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: c.voters.clone(),
    autoLeave: c.autoLeave,
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
  };
}

/** e.g. `voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave`; empty sets are omitted. */
export function describeTrackerConfig(c: TrackerConfig): string {
  let s = `voters=${c.voters.toString()}`;
  if (c.learners.size > 0) s += ` learners=${new MajorityConfig(c.learners).toString()}`;
  if (c.learnersNext.size > 0) s += ` learners_next=${new MajorityConfig(c.learnersNext).toString()}`;
  if (c.autoLeave) s += ' autoleave';
  return s;
}
