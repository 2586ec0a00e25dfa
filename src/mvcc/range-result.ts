import type { KeyValue } from './key-value.js';

/** Options of a plain mvcc range (etcd's mvcc.RangeOptions). */
export interface RangeOptions {
  /** At most this many key-values (0 or absent: no limit). `count` still counts them all. */
  readonly limit?: number;
  /** Read at this revision; 0 or absent: the current one. */
  readonly rev?: number;
  /** Return only `count`, no key-values. */
  readonly countOnly?: boolean;
  /** Leave values empty (saves copying them). */
  readonly keysOnly?: boolean;
}

/** A successful range. */
export interface RangeResult {
  readonly ok: true;
  /** Key-values in ascending key order, at most `limit`. */
  readonly kvs: KeyValue[];
  /** Number of keys alive in the range at the read revision, regardless of limit. */
  readonly count: number;
  /** The store's revision the read was served at (the response header revision). */
  readonly rev: number;
}

/**
 * An expected failure, as a value: the requested revision was compacted away (etcd's
 * ErrCompacted) or is not reached yet (ErrFutureRev).
 */
export interface RevisionFailure {
  readonly ok: false;
  readonly code: 'compacted' | 'future-rev';
  /** The store's current revision. */
  readonly currentRev: number;
  /** The store's compacted revision (-1 when never compacted). */
  readonly compactRev: number;
}

/** What a range returns. */
export type RangeOutcome = RangeResult | RevisionFailure;

/** Anything that serves ranges: the store, a write transaction. */
export interface RangeReader {
  range(key: Uint8Array, rangeEnd: Uint8Array | undefined, options?: RangeOptions): RangeOutcome;
}
