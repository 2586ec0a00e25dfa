import type { ConfState, Entry, HardState, Snapshot } from '../api/raftpb/types.js';
import { EntryType, emptySnapshot } from '../api/raftpb/types.js';
import { limitSize } from './entries.js';
import { fail } from './errors.js';

/**
 * Why a storage read could not be served:
 * - `compacted`: the index is at or below the compaction point (use the snapshot);
 * - `unavailable`: the index is beyond what the storage holds;
 * - `snapshot-out-of-date`: the snapshot given or asked for is older than the one held;
 * - `snapshot-temporarily-unavailable`: the snapshot is being produced; try again later.
 */
export type StorageError = 'compacted' | 'unavailable' | 'snapshot-out-of-date' | 'snapshot-temporarily-unavailable';

/** Whether a storage result is an error rather than a value. */
export function isStorageError(x: unknown): x is StorageError {
  return typeof x === 'string';
}

/**
 * The durable log as raft reads it. The host writes to it (persisting each Ready) and raft reads
 * from it; raft never writes. Entries returned are shared: callers must not mutate them.
 */
export interface Storage {
  /** The persisted HardState and the ConfState of the last snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at most `maxSize` encoded bytes but at least one entry when any exists.
   * `compacted` when lo is at or below the compaction point.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[] | StorageError;
  /** The term of entry i; valid for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number | StorageError;
  /** The index of the last entry (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The index of the first entry still held (older ones were compacted into the snapshot). */
  firstIndex(): number;
  /** The most recent snapshot. */
  snapshot(): Snapshot | StorageError;
}

/**
 * A Storage in memory, for tests and the in-memory benchmark. The log is kept as an array whose
 * slot 0 is a dummy entry carrying the index and term of the last compaction (or snapshot).
 */
export class MemoryStorage implements Storage {
  private hs: HardState = { term: 0, vote: 0n, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  // invariant: ents[i] has index ents[0].index + i; ents[0] is the dummy entry.
  private ents: Entry[] = [dummyEntry(0, 0)];

  /**
   * An empty storage. `confState` sets the membership reported before any snapshot exists, so a
   * node can start with peers and an empty log (tests and tools; real clusters bootstrap).
   */
  constructor(confState?: ConfState) {
    if (confState !== undefined) this.snap.metadata.confState = confState;
  }

  /** The last HardState set. */
  get hardState(): HardState {
    return this.hs;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hs, confState: this.snap.metadata.confState };
  }

  /** Records the HardState to return from initialState. */
  setHardState(hs: HardState): void {
    this.hs = hs;
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] | StorageError {
    const offset = this.ents[0]!.index;
    if (lo <= offset) return 'compacted';
    if (hi > this.lastIndex() + 1) fail(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    // Only the dummy entry: nothing to serve.
    if (this.ents.length === 1) return 'unavailable';
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number | StorageError {
    const offset = this.ents[0]!.index;
    if (i < offset) return 'compacted';
    if (i - offset >= this.ents.length) return 'unavailable';
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot | StorageError {
    return this.snap;
  }

  /**
   * Replaces the contents with a snapshot (a follower installing one from its leader). Returns
   * `snapshot-out-of-date` if `s` is not newer than the snapshot held.
   */
  applySnapshot(s: Snapshot): StorageError | undefined {
    if (this.snap.metadata.index >= s.metadata.index) return 'snapshot-out-of-date';
    this.snap = s;
    this.ents = [dummyEntry(s.metadata.index, s.metadata.term)];
    return undefined;
  }

  /**
   * Makes a snapshot of the state up to index i (which must be applied) with the given data and
   * optional ConfState, to be served to slow followers. Compact the log separately.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot | StorageError {
    if (i <= this.snap.metadata.index) return 'snapshot-out-of-date';
    const offset = this.ents[0]!.index;
    if (i > this.lastIndex()) fail(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ?? this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /**
   * Discards entries up to and including compactIndex (their effect lives in a snapshot). Returns
   * `compacted` if that point was already compacted. compactIndex must not exceed lastIndex.
   */
  compact(compactIndex: number): StorageError | undefined {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) return 'compacted';
    if (compactIndex > this.lastIndex()) fail(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const kept = this.ents.slice(i);
    kept[0] = dummyEntry(this.ents[i]!.index, this.ents[i]!.term);
    this.ents = kept;
    return undefined;
  }

  /**
   * Appends entries, which must be contiguous. Entries at or below the compaction point are
   * skipped; entries overlapping the stored tail replace it (a new leader's log wins, Raft §5.3).
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    // Everything given was compacted already.
    if (last < first) return;
    let from = 0;
    if (first > entries[0]!.index) from = first - entries[0]!.index;
    const offset = entries[from]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) fail(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[from]!.index}]`);
    // Truncate a conflicting tail, then append.
    if (offset < this.ents.length) this.ents.length = offset;
    const ents = this.ents;
    for (let k = from; k < entries.length; k++) ents.push(entries[k]!);
  }
}

function dummyEntry(index: number, term: number): Entry {
  return { term, index, type: EntryType.EntryNormal, data: new Uint8Array(0) };
}
