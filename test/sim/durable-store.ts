/**
 * A simulated node's disk: what survives a crash. It is kept apart from the MemoryStorage that raft
 * reads while the node runs, and written only at the persist step of the Ready handling, so a
 * crash anywhere else loses exactly what a real process would lose.
 */
import { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry, HardState, Snapshot } from '../../src/api/raftpb/types.js';

/** Thrown when what is written would break the shape of a log (a gap, a term going back). */
export class DurableLogError extends Error {}

/** A durable log: a snapshot, the hard state and the entries after the compaction point. */
export class DurableStore {
  hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  /** The last snapshot persisted (made locally or received from a leader). */
  snapshot: Snapshot | undefined;
  // invariant: ents[k].index === offset + 1 + k; entries at or below offset were compacted.
  private ents: Entry[] = [];
  private offset = 0;
  private offsetTerm = 0;

  /** Index of the last entry (the compaction point when there are none). */
  lastIndex(): number {
    return this.offset + this.ents.length;
  }

  /** Index of the first entry held. */
  firstIndex(): number {
    return this.offset + 1;
  }

  /** The compaction point: entries at or below it live only in the snapshot. */
  compactedIndex(): number {
    return this.offset;
  }

  /** Term of entry i, the compaction point's term at i === offset, undefined outside. */
  term(i: number): number | undefined {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.lastIndex()) return undefined;
    return this.ents[i - this.offset - 1]!.term;
  }

  /** The entry at i, undefined when compacted or beyond the end. */
  entry(i: number): Entry | undefined {
    if (i <= this.offset) return undefined;
    return this.ents[i - this.offset - 1];
  }

  /**
   * Appends contiguous entries, replacing the tail they overlap. Returns the index of the first
   * stored entry that was replaced by a different one (0 when none), so callers can check that no
   * committed entry was overwritten.
   */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return 0;
    let first = entries[0]!.index;
    let from = 0;
    if (first <= this.offset) {
      from = this.offset + 1 - first;
      if (from >= entries.length) return 0;
      first = this.offset + 1;
    }
    if (first > this.lastIndex() + 1) {
      throw new DurableLogError(`gap in persisted log: last ${this.lastIndex()}, appending at ${first}`);
    }
    let conflict = 0;
    const keep = first - this.offset - 1;
    for (let k = keep; k < this.ents.length && conflict === 0; k++) {
      const e = entries[from + k - keep];
      if (e === undefined || e.term !== this.ents[k]!.term) conflict = this.ents[k]!.index;
    }
    this.ents.length = keep;
    let prevTerm = this.term(first - 1)!;
    for (let k = from; k < entries.length; k++) {
      const e = entries[k]!;
      if (e.index !== this.lastIndex() + 1) throw new DurableLogError(`non-contiguous append at ${e.index}`);
      if (e.term < prevTerm) throw new DurableLogError(`term goes back at ${e.index}: ${e.term} < ${prevTerm}`);
      prevTerm = e.term;
      this.ents.push(e);
    }
    return conflict;
  }

  /** Replaces the whole log with a snapshot (installing one sent by the leader). */
  applySnapshot(s: Snapshot): void {
    this.snapshot = s;
    this.ents = [];
    this.offset = s.metadata.index;
    this.offsetTerm = s.metadata.term;
  }

  /** Records a locally made snapshot; entries stay until `compact`. */
  saveSnapshot(s: Snapshot): void {
    this.snapshot = s;
  }

  /** Drops entries up to and including i, which the saved snapshot must cover. */
  compact(i: number): void {
    if (i <= this.offset) return;
    if (this.snapshot === undefined || this.snapshot.metadata.index < i) {
      throw new DurableLogError(`compacting to ${i} beyond the snapshot`);
    }
    const term = this.term(i)!;
    this.ents = this.ents.slice(i - this.offset);
    this.offset = i;
    this.offsetTerm = term;
  }

  /** A fresh MemoryStorage holding what is on disk, for a restart. */
  load(): MemoryStorage {
    const ms = new MemoryStorage();
    if (this.snapshot !== undefined) ms.applySnapshot(this.snapshot);
    ms.setHardState(this.hardState);
    if (this.snapshot !== undefined && this.offset < this.snapshot.metadata.index) {
      ms.append(this.ents.slice(this.snapshot.metadata.index - this.offset));
    } else {
      ms.append(this.ents);
    }
    return ms;
  }
}
