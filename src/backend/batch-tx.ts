import type { Bucket } from './bucket.js';
import { keyString } from './key-string.js';

/**
 * The writes of one batch not yet committed to lmdb: per bucket, key (as a latin1 string, whose
 * order is the byte order of the key) to value, or `null` for a delete. The last write of a key
 * wins, which is what one lmdb transaction applying them in any order would leave.
 */
export class PendingWrites {
  /** invariant: no bucket maps to an empty Map. */
  readonly buckets = new Map<Bucket, Map<string, Uint8Array | null>>();
  /** Number of put/delete calls recorded (not distinct keys). */
  ops = 0;

  record(bucket: Bucket, key: string, value: Uint8Array | null): void {
    let m = this.buckets.get(bucket);
    if (m === undefined) {
      m = new Map();
      this.buckets.set(bucket, m);
    }
    m.set(key, value);
    this.ops++;
  }

  /** The pending value of `key`: a value, `null` when deleted here, `undefined` when untouched. */
  lookup(bucket: Bucket, key: string): Uint8Array | null | undefined {
    return this.buckets.get(bucket)?.get(key);
  }
}

/** What a BatchTx needs from its backend: the committer of sealed batches. */
export interface BatchCommitter {
  commitPending(pending: PendingWrites): Promise<void>;
  checkOpen(): void;
}

/**
 * The backend's one write batch, as etcd's batchTx: puts and deletes collect here, are visible at
 * once to every read of the backend, and go to disk together as one lmdb transaction on `commit()`.
 * One apply batch of the server (its data and its `consistentIndex`) belongs in one commit, so a
 * crash keeps both or neither.
 *
 * Ownership: `put` keeps the given key and value arrays without copying them; the caller must not
 * change them afterwards.
 */
export class BatchTx {
  private pending = new PendingWrites();

  constructor(private readonly committer: BatchCommitter) {}

  /** Stores `value` under `key` in `bucket` (visible to reads at once, durable after commit). */
  put(bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    this.committer.checkOpen();
    this.pending.record(bucket, keyString(key), value);
  }

  /**
   * As `put`, with the key given as its latin1 string (one character per byte, see keyString),
   * for callers that build keys as strings on hot paths.
   */
  putKeyString(bucket: Bucket, key: string, value: Uint8Array): void {
    this.committer.checkOpen();
    this.pending.record(bucket, key, value);
  }

  /** Deletes `key` from `bucket` (a no-op on disk when the key does not exist). */
  delete(bucket: Bucket, key: Uint8Array): void {
    this.committer.checkOpen();
    this.pending.record(bucket, keyString(key), null);
  }

  /** Number of put/delete calls waiting for the next commit. */
  get pendingOps(): number {
    return this.pending.ops;
  }

  /** The writes waiting for the next commit, for the backend's read overlay. */
  current(): PendingWrites {
    return this.pending;
  }

  /**
   * Seals the writes so far and commits them as one lmdb transaction; later writes go to a new
   * batch. Resolves when this transaction and all earlier ones are committed (see Backend for the
   * durability this gives). Rejects if lmdb fails, which leaves the backend broken.
   */
  commit(): Promise<void> {
    const sealed = this.pending;
    this.pending = new PendingWrites();
    return this.committer.commitPending(sealed);
  }
}
