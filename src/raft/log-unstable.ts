import type { Entry, Snapshot } from '../api/raftpb/types.js';
import type { RaftLogger } from './config.js';
import { fail } from './errors.js';

/**
 * The tail of the log not yet persisted by the host: an incoming snapshot and/or entries. Entry
 * i of `entries` has index `offset + i`. The host persists them from a Ready; `stableTo` /
 * `stableSnapTo` then drop them from here.
 */
export class Unstable {
  /** A snapshot received from the leader and not yet persisted. */
  snapshot: Snapshot | undefined = undefined;
  /** Entries not yet persisted; owned here, never handed out without copying. */
  entries: Entry[] = [];
  /** The index of entries[0]. */
  offset: number;

  constructor(
    offset: number,
    private readonly logger: RaftLogger,
    private readonly logOn: boolean,
  ) {
    this.offset = offset;
  }

  /** The first index if a snapshot is pending (snapshot index + 1), else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot !== undefined ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** The last index of the unstable entries, or of the pending snapshot, else undefined. */
  maybeLastIndex(): number | undefined {
    const l = this.entries.length;
    if (l !== 0) return this.offset + l - 1;
    return this.snapshot !== undefined ? this.snapshot.metadata.index : undefined;
  }

  /** The term of entry i if known here (an unstable entry or the pending snapshot's index). */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const k = i - this.offset;
    return k < this.entries.length ? this.entries[k]!.term : undefined;
  }

  /**
   * Drops entries up to i after the host persisted them, but only if entry i still has term t: a
   * newer leader may have replaced that part of the tail meanwhile, and then it is still unstable.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    // Below offset the term matched the snapshot; only unstable entries are dropped here.
    if (gt === t && i >= this.offset) {
      const k = i + 1 - this.offset;
      this.entries = k >= this.entries.length ? [] : this.entries.slice(k);
      this.offset = i + 1;
    }
  }

  /** Drops the pending snapshot once the host persisted it. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with snapshot s (its entries follow from the leader). */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /**
   * Appends contiguous entries, first truncating any unstable entries at or after ents[0].index
   * (a conflicting tail being replaced, Raft §5.3).
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      // The common case: a plain append.
      const dst = this.entries;
      for (let k = 0; k < ents.length; k++) dst.push(ents[k]!);
    } else if (after <= this.offset) {
      // The whole unstable tail is replaced.
      if (this.logOn) this.logger.info(`replace the unstable entries from index ${after}`);
      this.offset = after;
      this.entries = ents.slice();
    } else {
      // Keep [offset, after) and append after it.
      if (this.logOn) this.logger.info(`truncate the unstable entry before index ${after}`);
      const kept = this.slice(this.offset, after);
      for (let k = 0; k < ents.length; k++) kept.push(ents[k]!);
      this.entries = kept;
    }
  }

  /** A copy of the entries in [lo, hi); both bounds must lie within the unstable entries. */
  slice(lo: number, hi: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) fail(`invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    if (lo < this.offset || hi > upper) fail(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
  }
}
