import type { ConfState } from '../../api/raftpb/types.js';
import { VoteResult, type AckedIndexer } from '../quorum/index.js';
import type { Progress } from './progress.js';
import { emptyTrackerConfig, type TrackerConfig } from './tracker-config.js';

function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedIds(s: ReadonlySet<bigint>): bigint[] {
  return [...s].sort(compareIds);
}

/**
 * The leader's (and candidate's) view of the group: the active config, a Progress per voter and
 * learner, and the votes of the current election. The conf changer produces new `config` and
 * `progress` values which the owner assigns here.
 */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  /** One entry per voter (either half) and learner. */
  progress = new Map<bigint, Progress>();
  /** Votes received in the current election; true = granted. */
  votes = new Map<bigint, boolean>();

  // Reads `this.progress` at call time, so it stays valid when the map is replaced.
  private readonly matchIndexer: AckedIndexer = {
    ackedIndex: (id) => this.progress.get(id)?.match,
  };
  // Scratch space reused by visit() and quorumActive() to keep them allocation-free.
  private readonly visitIds: bigint[] = [];
  private visiting = false;
  private readonly activeVotes = new Map<bigint, boolean>();

  constructor(
    /** Inflights window size for new progresses. */
    readonly maxInflight: number,
    /** Inflights byte budget for new progresses; 0 = unlimited. */
    readonly maxInflightBytes = 0,
  ) {}

  /** The active config as a ConfState (IDs ascending). */
  confState(): ConfState {
    const v = this.config.voters;
    return {
      voters: v.incoming.slice(),
      votersOutgoing: v.outgoing.slice(),
      learners: sortedIds(this.config.learners),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** Whether the only voter is a single node (which can then commit alone). */
  isSingleton(): boolean {
    return this.config.voters.incoming.ids.size === 1 && this.config.voters.outgoing.ids.size === 0;
  }

  /** The highest index replicated on a quorum of voters (Raft §5.3); joint configs need both halves. */
  committed(): number {
    return this.config.voters.committedIndex(this.matchIndexer);
  }

  /** Calls `f` for every tracked peer in ascending ID order (deterministic message order). */
  visit(f: (id: bigint, pr: Progress) => void): void {
    // A re-entrant visit (f calling visit) gets its own array so it cannot clobber the outer one.
    const ids = this.visiting ? [] : this.visitIds;
    const n = this.progress.size;
    ids.length = n;
    let i = 0;
    for (const id of this.progress.keys()) ids[i++] = id;
    for (let a = 1; a < n; a++) {
      const v = ids[a]!;
      let b = a - 1;
      while (b >= 0 && ids[b]! > v) {
        ids[b + 1] = ids[b]!;
        b--;
      }
      ids[b + 1] = v;
    }
    const outer = !this.visiting;
    this.visiting = true;
    try {
      for (let k = 0; k < n; k++) {
        const pr = this.progress.get(ids[k]!);
        if (pr !== undefined) f(ids[k]!, pr);
      }
    } finally {
      if (outer) this.visiting = false;
    }
  }

  /**
   * Whether a quorum of voters has been recently active (check quorum, Raft thesis §6.2). The
   * caller resets recentActive afterwards to start the next round.
   */
  quorumActive(): boolean {
    const votes = this.activeVotes;
    votes.clear();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    }
    return this.config.voters.voteResult(votes) === VoteResult.VoteWon;
  }

  /** All voters of both halves, ascending. */
  voterNodes(): bigint[] {
    return sortedIds(this.config.voters.ids());
  }

  /** The learners, ascending. */
  learnerNodes(): bigint[] {
    return sortedIds(this.config.learners);
  }

  /** Starts a new election round. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote; only the first vote of a peer in a round counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /**
   * Counts the votes of tracked voters (informational) and the election outcome under the
   * active (possibly joint) config.
   */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}
