import type { RangeOptions, RangeOutcome, RangeReader } from './range-result.js';

/** What a read transaction needs from its store. */
export interface ReadStore {
  rangeAt(key: Uint8Array, rangeEnd: Uint8Array | undefined, curRev: number, options: RangeOptions | undefined): RangeOutcome;
}

/**
 * A read transaction (etcd's storeTxnRead): every range reads at the revision the store had when
 * it began, so several reads (a read-only Txn's compares and ranges) see one state and answer one
 * header revision. Cheap: it holds no lock and nothing to release.
 */
export class TxnRead implements RangeReader {
  /** `rev` is the store's current revision when the transaction began. */
  constructor(
    private readonly store: ReadStore,
    readonly rev: number,
  ) {}

  /** Reads at the transaction's revision (or at `options.rev`, which may not exceed it). */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options?: RangeOptions): RangeOutcome {
    return this.store.rangeAt(key, rangeEnd, this.rev, options);
  }
}
