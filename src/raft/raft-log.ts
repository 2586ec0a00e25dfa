import type { Entry, Snapshot } from '../api/raftpb/types.js';
import type { RaftLogger } from './config.js';
import { NO_LIMIT } from './config.js';
import { limitSize } from './entries.js';
import { fail } from './errors.js';
import { Unstable } from './log-unstable.js';
import type { Storage, StorageError } from './storage.js';

/**
 * A node's log: the persisted prefix in Storage followed by the unstable tail, with the commit and
 * applied cursors. invariant: applied <= committed <= lastIndex().
 */
export class RaftLog {
  /** The unpersisted tail (and incoming snapshot). */
  readonly unstable: Unstable;
  /** Highest index known committed (Raft §5.3). */
  committed: number;
  /** Highest index the host reported applied. invariant: applied <= committed. */
  applied: number;

  constructor(
    /** The persisted part; read only here. */
    readonly storage: Storage,
    private readonly logger: RaftLogger,
    private readonly logOn: boolean,
    /** Max bytes of committed entries handed out per Ready. */
    readonly maxNextEntsSize: number = NO_LIMIT,
  ) {
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable(lastIndex + 1, logger, logOn);
    // Everything up to the snapshot was committed and applied.
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  /** e.g. `committed=5, applied=3, unstable.offset=6, len(unstable.Entries)=2`. */
  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Appends the leader's entries following (index, logTerm) if this log has that entry (the
   * consistency check of AppendEntries, Raft §5.3), truncating any conflicting suffix, and
   * advances the commit index to min(committed, last new index). Returns the last index of the
   * new entries, or undefined when the check fails.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      // Raft §5.4: a committed entry is never overwritten.
      if (ci <= this.committed) fail(`entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      const from = ci - (index + 1);
      this.append(from === 0 ? ents : ents.slice(from));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries (truncating the tail at ents[0].index) and returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) fail(`after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is missing here or has a different term, or 0
   * when all of them are already present. ents must be contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (let k = 0; k < ents.length; k++) {
      const ne = ents[k]!;
      if (!this.matchTerm(ne.index, ne.term)) {
        if (ne.index <= this.lastIndex() && this.logOn) {
          this.logger.info(
            `found conflict at index ${ne.index} [existing term: ${this.zeroTermOnErrCompacted(this.term(ne.index))}, conflicting term: ${ne.term}]`,
          );
        }
        return ne.index;
      }
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or whose term is unknown): where a
   * log holding `term` at some point could still match ours. Used for fast backtracking of
   * rejected appends, on both leader and follower.
   */
  findConflictByTerm(index: number, term: number): number {
    const li = this.lastIndex();
    if (index > li) {
      if (this.logOn) this.logger.warn(`index(${index}) is out of range [0, lastIndex(${li})] in findConflictByTerm`);
      return index;
    }
    while (true) {
      const t = this.term(index);
      if (typeof t === 'string' || t <= term) return index;
      index--;
    }
  }

  /** A copy of the unstable entries (to persist), possibly empty. */
  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice();
  }

  /** Whether there are unstable entries to persist. */
  hasUnstableEntries(): boolean {
    return this.unstable.entries.length !== 0;
  }

  /** Committed entries not yet applied, bounded by maxNextEntsSize (at least one if any). */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) {
      const ents = this.slice(off, this.committed + 1, this.maxNextEntsSize);
      if (typeof ents === 'string') fail(`unexpected error when getting unapplied entries (${ents})`);
      return ents;
    }
    return [];
  }

  /** Whether there are committed entries to apply. */
  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** Whether an incoming snapshot awaits persisting. */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index !== 0;
  }

  /** The pending snapshot if any, else the storage's snapshot. */
  snapshot(): Snapshot | StorageError {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** The index of the first entry still available. */
  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  /** The index of the last entry. */
  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Raises the commit index to tocommit (never lowers it). tocommit must be <= lastIndex. */
  commitTo(tocommit: number): void {
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        fail(`tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`);
      }
      this.committed = tocommit;
    }
  }

  /** Records that the host applied everything up to i. Requires applied <= i <= committed. */
  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      fail(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
  }

  /** See Unstable.stableTo. */
  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  /** See Unstable.stableSnapTo. */
  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** The term of the last entry. */
  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (typeof t === 'string') fail(`unexpected error when getting the last term (${t})`);
    return t;
  }

  /**
   * The term of entry i: 0 outside [firstIndex-1, lastIndex], `compacted`/`unavailable` when the
   * storage cannot tell.
   */
  term(i: number): number | StorageError {
    // Fast path: an unstable entry (the common case on the hot path).
    const u = this.unstable;
    const k = i - u.offset;
    if (k >= 0 && k < u.entries.length) return u.entries[k]!.term;
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return 0;
    const ut = u.maybeTerm(i);
    if (ut !== undefined) return ut;
    const t = this.storage.term(i);
    if (typeof t === 'number' || t === 'compacted' || t === 'unavailable') return t;
    return fail(`unexpected storage error getting term(${i}): ${t}`);
  }

  /** Entries from i to the end, at most maxSize bytes (at least one if any). */
  entries(i: number, maxSize: number): Entry[] | StorageError {
    const last = this.lastIndex();
    if (i > last) return [];
    return this.slice(i, last + 1, maxSize);
  }

  /** Every entry still available (for tests). */
  allEntries(): Entry[] {
    for (;;) {
      const ents = this.entries(this.firstIndex(), NO_LIMIT);
      if (typeof ents !== 'string') return ents;
      // Compacted concurrently with the read: try again.
      if (ents !== 'compacted') fail(`unexpected error reading all entries: ${ents}`);
    }
  }

  /**
   * Whether a candidate whose log ends at (lasti, term) is at least as up-to-date as this log
   * (Raft §5.4.1): a later last term, or the same last term and at least as long.
   */
  isUpToDate(lasti: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lasti >= this.lastIndex());
  }

  /** Whether entry i exists here with the given term. */
  matchTerm(i: number, term: number): boolean {
    const t = this.term(i);
    return typeof t === 'number' && t === term;
  }

  /**
   * Commits up to maxIndex if that entry is from `term` (the leader's current term): Raft §5.4.2,
   * a leader never commits entries of earlier terms by counting replicas.
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.zeroTermOnErrCompacted(this.term(maxIndex)) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Resets the log to snapshot s, which is committed by definition. */
  restore(s: Snapshot): void {
    if (this.logOn) {
      this.logger.info(`log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    }
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Entries in [lo, hi) from storage and the unstable tail, at most maxSize bytes (at least one).
   * `compacted` when lo is below firstIndex.
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] | StorageError {
    const err = this.mustCheckOutOfBounds(lo, hi);
    if (err !== undefined) return err;
    if (lo === hi) return [];
    const u = this.unstable;
    // Fast path: entirely in the unstable tail.
    if (lo >= u.offset) return limitSize(u.slice(lo, hi), maxSize);
    let ents: Entry[] = [];
    const storedHi = Math.min(hi, u.offset);
    const stored = this.storage.entries(lo, storedHi, maxSize);
    if (stored === 'compacted') return stored;
    if (stored === 'unavailable') fail(`entries[${lo}:${storedHi}) is unavailable from storage`);
    if (typeof stored === 'string') fail(`unexpected storage error reading entries[${lo}:${storedHi}): ${stored}`);
    // The size limit was reached within storage.
    if (stored.length < storedHi - lo) return stored;
    ents = stored;
    if (hi > u.offset) {
      const tail = u.slice(u.offset, hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSize);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): StorageError | undefined {
    if (lo > hi) fail(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) return 'compacted';
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) fail(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
    return undefined;
  }

  /** t, or 0 when the entry was compacted; other errors are broken invariants. */
  zeroTermOnErrCompacted(t: number | StorageError): number {
    if (typeof t === 'number') return t;
    if (t === 'compacted') return 0;
    return fail(`unexpected error (${t})`);
  }
}
