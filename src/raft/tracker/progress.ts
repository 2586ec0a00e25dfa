import { Inflights } from './inflights.js';
import { ProgressState, progressStateName } from './progress-state.js';

/** Initial values of a Progress; omitted fields start at zero / false. */
export interface ProgressInit {
  match?: number;
  /** The next index to send; invariant: match < next. */
  next: number;
  inflights: Inflights;
  isLearner?: boolean;
  recentActive?: boolean;
}

/**
 * The leader's view of one follower (Raft §5.3 nextIndex/matchIndex) plus the flow control that
 * decides when to send it appends. Owned by the leader's ProgressTracker.
 */
export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Next index to send. invariant: match < next. */
  next: number;
  /** How appends are sent to this follower. */
  state: ProgressState = ProgressState.StateProbe;
  /**
   * In StateSnapshot, the leader's last index when it decided to send a snapshot; replication
   * resumes once the follower reports having caught up. 0 outside StateSnapshot.
   */
  pendingSnapshot = 0;
  /** Whether the follower has been heard from since the last check-quorum round. */
  recentActive: boolean;
  /**
   * In StateProbe, set after an append is sent and cleared when the follower answers (append or
   * heartbeat response), so at most one probe is outstanding.
   */
  msgAppFlowPaused = false;
  /** Appends in flight, used in StateReplicate. */
  inflights: Inflights;
  /** Whether this peer is a learner (receives the log, does not vote). */
  isLearner: boolean;

  constructor(init: ProgressInit) {
    this.match = init.match ?? 0;
    this.next = init.next;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner ?? false;
    this.recentActive = init.recentActive ?? false;
  }

  /**
   * A copy that shares the inflights window, as etcd's conf changer does: only membership fields
   * of the copy are changed before it replaces the original.
   */
  shallowClone(): Progress {
    const c = new Progress(this);
    c.state = this.state;
    c.pendingSnapshot = this.pendingSnapshot;
    c.msgAppFlowPaused = this.msgAppFlowPaused;
    return c;
  }

  // Enters a state, clearing what belongs to the previous one.
  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Enters StateProbe with next = match+1, or, coming from StateSnapshot, just past the snapshot
   * that was sent (the follower likely has it by now).
   */
  becomeProbe(): void {
    if (this.state === ProgressState.StateSnapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.StateProbe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.StateProbe);
      this.next = this.match + 1;
    }
  }

  /** Enters StateReplicate with next = match+1. */
  becomeReplicate(): void {
    this.resetState(ProgressState.StateReplicate);
    this.next = this.match + 1;
  }

  /** Enters StateSnapshot, waiting for a snapshot at `snapshotIndex` to be applied. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.StateSnapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Unpauses a probe: the follower answered. */
  probeAcked(): void {
    this.msgAppFlowPaused = false;
  }

  /**
   * Handles an acknowledgement of index `n` (MsgAppResp). Returns false for a stale ack (n is not
   * above match). Next never moves backwards.
   */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeAcked();
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /** Sets next past `n` after optimistically sending entries up to `n` (StateReplicate). */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejected MsgApp for index `rejected`, with the follower's hint `matchHint` of where
   * its log may match. Returns false if the rejection is stale (reordered or duplicated) and
   * leaves the progress unchanged.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.StateReplicate) {
      // Anything at or below match was acknowledged already: the rejection is stale.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probes go out one at a time with index next-1; a rejection of any other index is stale.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeAcked();
    return true;
  }

  /**
   * Whether sending appends to this follower is throttled: an unanswered probe, a full inflights
   * window, or a pending snapshot.
   */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.StateProbe:
        return this.msgAppFlowPaused;
      case ProgressState.StateReplicate:
        return this.inflights.full();
      case ProgressState.StateSnapshot:
        return true;
    }
  }

  /**
   * Records a MsgApp carrying `entries` entries of `bytes` payload bytes starting at next. In
   * StateReplicate next advances and the message enters the inflights window; in StateProbe
   * further probes pause until the follower answers.
   */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.StateReplicate) {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
    } else if (this.state === ProgressState.StateProbe) {
      this.msgAppFlowPaused = true;
    }
  }

  /** e.g. `StateReplicate match=5 next=6 learner paused pendingSnap=3 inactive inflight=2[full]`. */
  toString(): string {
    let s = `${progressStateName(this.state)} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.isPaused()) s += ' paused';
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    const n = this.inflights.count();
    if (n > 0) {
      s += ` inflight=${n}`;
      if (this.inflights.full()) s += '[full]';
    }
    return s;
  }
}

function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One `id: progress` line per peer, IDs ascending. */
export function describeProgressMap(m: ReadonlyMap<bigint, Progress>): string {
  let out = '';
  for (const id of [...m.keys()].sort(compareIds)) out += `${id}: ${m.get(id)!.toString()}\n`;
  return out;
}
