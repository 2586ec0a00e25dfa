import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { keyBytes } from '../backend/key-string.js';
import { mainRevPrefix, revToBytes, subOfRevBytes, mainOfRevBytes, REV_BYTES_LEN } from './revision.js';
import type { RevisionSet } from './revision-set.js';

/** Meta bucket key of the compaction revision scheduled (written when compaction starts). */
export const SCHEDULED_COMPACT_KEY = keyBytes('scheduledCompactRev');
/** Meta bucket key of the last compaction revision whose physical deletes all finished. */
export const FINISHED_COMPACT_KEY = keyBytes('finishedCompactRev');

/**
 * The physical half of a compaction (etcd's scheduleCompaction): deletes from the `key` bucket
 * every revision at or below `rev` that the index no longer needs (not in `keep`), in batches,
 * and finally records `rev` as finished in the meta bucket. The index was compacted already, so
 * reads never reach what this deletes.
 *
 * It is driven from outside so that deletes never split an apply batch: the host loop calls
 * `step()` between apply batches and commits the backend after each. If the node stops midway,
 * the scheduled revision left in the meta bucket makes the store redo the job on open.
 */
export class CompactionJob {
  /** Scan position: the next revision key to look at. */
  private next: Uint8Array = new Uint8Array(REV_BYTES_LEN);
  private readonly end: Uint8Array;
  private finished = false;
  private resolveDone!: () => void;
  /** Resolves when the last step has run (its deletes still need the backend commit). */
  readonly done: Promise<void>;

  constructor(
    private readonly backend: Backend,
    private readonly keyBucket: Bucket,
    private readonly metaBucket: Bucket,
    /** The compaction revision. */
    readonly rev: number,
    private readonly keep: RevisionSet,
  ) {
    this.end = mainRevPrefix(rev + 1);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Whether every step has run. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Deletes up to `batchLimit` superseded revisions into the backend's open batch. Returns true
   * while more remain; the call that returns false also records the compaction as finished.
   */
  step(batchLimit: number): boolean {
    if (this.finished) return false;
    let seen = 0;
    let lastMain = 0;
    let lastSub = 0;
    const tx = this.backend.batchTx;
    this.backend.scan(this.keyBucket, this.next, this.end, (k) => {
      seen++;
      lastMain = mainOfRevBytes(k);
      lastSub = subOfRevBytes(k);
      if (!this.keep.has(lastMain, lastSub)) tx.delete(this.keyBucket, k);
      return seen < batchLimit;
    });
    if (seen < batchLimit) {
      tx.put(this.metaBucket, FINISHED_COMPACT_KEY, revToBytes(this.rev, 0));
      this.finished = true;
      this.resolveDone();
      return false;
    }
    this.next = revToBytes(lastMain, lastSub + 1);
    return true;
  }
}
