import type { AckedIndexer } from './acked-indexer.js';
import { MajorityConfig } from './majority-config.js';
import { VoteResult } from './vote-result.js';

/**
 * Two majority configs that must both agree (joint consensus, Raft thesis §4.3). Outside a
 * configuration change `outgoing` is empty and the joint config behaves like `incoming` alone.
 */
export class JointConfig {
  constructor(
    /** The new (or only) voters, C_new. */
    public incoming: MajorityConfig = new MajorityConfig(),
    /** The old voters while a joint change is in progress, C_old; empty otherwise. */
    public outgoing: MajorityConfig = new MajorityConfig(),
  ) {}

  /** Every voter of either half. */
  ids(): Set<bigint> {
    const s = new Set(this.incoming.ids);
    for (const id of this.outgoing.ids) s.add(id);
    return s;
  }

  /** Whether a joint change is in progress (the outgoing half is non-empty). */
  isJoint(): boolean {
    return this.outgoing.ids.size > 0;
  }

  /** A deep copy. */
  clone(): JointConfig {
    return new JointConfig(this.incoming.clone(), this.outgoing.clone());
  }

  /** `(1 2 3)&&(1 2)` while joint, else `(1 2 3)`. */
  toString(): string {
    const inc = this.incoming.toString();
    return this.outgoing.ids.size > 0 ? `${inc}&&${this.outgoing.toString()}` : inc;
  }

  /** The highest index committed by both halves: the smaller of their committed indexes. */
  committedIndex(l: AckedIndexer): number {
    const a = this.incoming.committedIndex(l);
    const b = this.outgoing.committedIndex(l);
    return a < b ? a : b;
  }

  /** Won only if both halves won, lost if either lost, pending otherwise. */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    const a = this.incoming.voteResult(votes);
    const b = this.outgoing.voteResult(votes);
    if (a === b) return a;
    if (a === VoteResult.VoteLost || b === VoteResult.VoteLost) return VoteResult.VoteLost;
    return VoteResult.VotePending;
  }

  /** The majority picture of all voters of both halves together. */
  describe(l: AckedIndexer): string {
    return new MajorityConfig(this.ids()).describe(l);
  }
}
