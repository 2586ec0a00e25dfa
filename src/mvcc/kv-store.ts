import { DEFAULT_HASH_IGNORES, META_BUCKET, type Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { keyString, keyStringAt } from '../backend/key-string.js';
import { update as crc32cUpdate } from '../pkg/crc32c.js';
import { CompactionJob, FINISHED_COMPACT_KEY, SCHEDULED_COMPACT_KEY } from './compaction.js';
import { KeyIndex } from './key-index.js';
import type { Event, KeyValue } from './key-value.js';
import { decodeKeyValue, KeyValueFields, readKeyValue } from './kv-codec.js';
import type { LeaseAttacher } from './lease-attacher.js';
import type { RangeOptions, RangeOutcome, RangeReader, RevisionFailure } from './range-result.js';
import { isTombstoneKey, mainOfRevBytes, mainRevPrefix, revToBytes, subOfRevBytes } from './revision.js';
import { TreeIndex } from './tree-index.js';
import { TxnRead } from './txn-read.js';
import { rangeEndOf, TxnWrite, type DeleteResult, type PutOptions, type PutOutcome, type TxnStore } from './txn-write.js';

/** Name of the bucket holding every revision of every key. */
export const KEY_BUCKET = 'key';

/** Options of `KvStore.open`. */
export interface KvStoreOptions {
  /** The lessor to keep informed of keys attached to leases; none: leases are only stored. */
  readonly lessor?: LeaseAttacher;
}

/** Told of every write transaction that changed the store: its revision and its events, in order. */
export type TxnListener = (rev: number, events: readonly Event[]) => void;

/** What `compact` returns. */
export type CompactOutcome = { readonly ok: true; readonly job: CompactionJob } | RevisionFailure;

/** What `hashByRev` returns (etcd's HashKV). */
export type HashKvOutcome =
  | { readonly ok: true; readonly hash: number; readonly currentRev: number; readonly compactRev: number }
  | RevisionFailure;

/**
 * etcd's MVCC key-value store (without watch): every change gets a revision, old revisions stay
 * readable until compacted. Revision records live in the backend's `key` bucket; an in-memory
 * index maps keys to their revisions. Writes go into the backend's open batch and are readable at
 * once; the server commits the batch (with its consistent index) once per apply batch.
 *
 * Revision numbering follows etcd: the store starts at revision 1, the first write is 2.
 * Synchronous and deterministic; one write transaction at a time.
 */
export class KvStore implements RangeReader, TxnStore {
  /** The key index; read-only outside mvcc (exposed for inspection and benchmarks). */
  readonly index = new TreeIndex();
  /** The backend bucket of revision records. */
  readonly keyBucket: Bucket;
  private readonly metaBucket: Bucket;
  /** The lessor kept informed of lease attachments, if any. */
  readonly lessor: LeaseAttacher | undefined;
  /** invariant: current >= compacted; the revision of the last completed write transaction. */
  private current = 1;
  /** The last compaction revision; -1 before any. */
  private compacted = -1;
  private openTxn: TxnWrite | undefined;
  private txnListener: TxnListener | undefined;
  private readonly compactions: CompactionJob[] = [];
  private readonly fields = new KeyValueFields();

  private constructor(
    /** The backend the store writes into; the server commits it. */
    readonly backend: Backend,
    options: KvStoreOptions,
  ) {
    this.keyBucket = backend.bucket(KEY_BUCKET);
    this.metaBucket = backend.bucket(META_BUCKET);
    this.lessor = options.lessor;
  }

  /**
   * Opens the store over `backend`: rebuilds the index, the current and compacted revisions and
   * the lessor's attachments from the `key` bucket, and re-schedules an unfinished compaction
   * (see `pendingCompaction`).
   */
  static open(backend: Backend, options: KvStoreOptions = {}): KvStore {
    const s = new KvStore(backend, options);
    s.restore();
    return s;
  }

  /** The revision of the last completed write transaction. */
  get currentRev(): number {
    return this.current;
  }

  /** The revision of the last compaction; -1 when never compacted. */
  get compactRev(): number {
    return this.compacted;
  }

  private restore(): void {
    const finished = this.backend.get(this.metaBucket, FINISHED_COMPACT_KEY);
    if (finished !== undefined) this.compacted = mainOfRevBytes(finished);
    const scheduledBytes = this.backend.get(this.metaBucket, SCHEDULED_COMPACT_KEY);
    let scheduled = scheduledBytes === undefined ? 0 : mainOfRevBytes(scheduledBytes);

    const byKey = new Map<string, KeyIndex>();
    const keyToLease = new Map<string, bigint>();
    const f = this.fields;
    let current = this.current;
    this.backend.scan(this.keyBucket, revToBytes(1, 0), undefined, (k, v) => {
      const main = mainOfRevBytes(k);
      const sub = subOfRevBytes(k);
      readKeyValue(v, f);
      const ks = keyStringAt(v, f.keyStart, f.keyEnd);
      current = main;
      let ki = byKey.get(ks);
      if (isTombstoneKey(k)) {
        // A tombstone always follows a kept put of its generation; guard all the same.
        if (ki !== undefined && !ki.isEmpty()) ki.tombstone(main, sub);
        keyToLease.delete(ks);
        return;
      }
      if (ki === undefined) {
        ki = new KeyIndex(ks);
        ki.restore(f.createRevision, main, sub, f.version);
        byKey.set(ks, ki);
      } else {
        ki.put(main, sub);
      }
      if (f.lease !== 0n) keyToLease.set(ks, f.lease);
      else if (keyToLease.size > 0) keyToLease.delete(ks);
    });
    // The default sort compares strings by UTF-16 code units, which for latin1 key strings is
    // byte order, without a JS comparator call per step.
    const keys = [...byKey.keys()].sort();
    this.index.load(keys.map((k) => byKey.get(k)!));
    // Revisions up to a compaction, finished or only scheduled, may all have been deleted; the
    // store had reached that revision, so it must not hand it out again.
    this.current = Math.max(current, this.compacted, scheduled);
    if (this.lessor !== undefined) for (const [ks, lease] of keyToLease) this.lessor.attach(lease, ks);
    if (scheduled <= this.compacted) scheduled = 0;
    if (scheduled !== 0) this.compact(scheduled);
  }

  /** @internal Reads the stored key-value at revision (main, sub); throws if it is missing. */
  readKeyValue(main: number, sub: number, keysOnly = false): KeyValue {
    const bytes = this.backend.getView(this.keyBucket, revToBytes(main, sub));
    if (bytes === undefined) throw new Error(`mvcc: revision ${main}.${sub} in the index is missing from the backend`);
    return decodeKeyValue(bytes, keysOnly);
  }

  private failure(code: 'compacted' | 'future-rev'): RevisionFailure {
    return { ok: false, code, currentRev: this.current, compactRev: this.compacted };
  }

  /** @internal A range served at `curRev` (etcd's rangeKeys). */
  rangeAt(key: Uint8Array, rangeEnd: Uint8Array | undefined, curRev: number, options: RangeOptions | undefined): RangeOutcome {
    let rev = options?.rev ?? 0;
    if (rev > curRev) return this.failure('future-rev');
    if (rev <= 0) rev = curRev;
    if (rev < this.compacted) return this.failure('compacted');
    const countOnly = options?.countOnly === true;
    const limit = options?.limit ?? 0;
    const { revs, total } = this.index.revisions(keyString(key), rangeEndOf(rangeEnd), rev, countOnly ? -1 : limit);
    if (countOnly) return { ok: true, kvs: [], count: total, rev: curRev };
    const keysOnly = options?.keysOnly === true;
    const kvs: KeyValue[] = new Array<KeyValue>(revs.length >>> 1);
    for (let i = 0; i < revs.length; i += 2) kvs[i >>> 1] = this.readKeyValue(revs[i]!, revs[i + 1]!, keysOnly);
    return { ok: true, kvs, count: total, rev: curRev };
  }

  /**
   * The keys in [key, rangeEnd) (rangeEnd absent or empty: only `key`; "\0": every key from
   * `key` on), at `options.rev` or the current revision.
   */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options?: RangeOptions): RangeOutcome {
    return this.rangeAt(key, rangeEnd, this.current, options);
  }

  /** A read transaction at the current revision (see TxnRead). */
  read(): TxnRead {
    return new TxnRead(this, this.current);
  }

  /**
   * Opens the write transaction; all its changes share main revision `currentRev + 1`. Throws if
   * one is open already.
   */
  write(): TxnWrite {
    if (this.openTxn !== undefined) throw new Error('mvcc: a write transaction is already open');
    this.openTxn = new TxnWrite(this, this.current);
    return this.openTxn;
  }

  /** @internal Called by TxnWrite.end. */
  endTxn(txn: TxnWrite, changed: boolean): void {
    if (this.openTxn !== txn) throw new Error('mvcc: ending a transaction that is not open');
    this.openTxn = undefined;
    if (changed) this.current++;
  }

  /**
   * Sets the one listener of completed write transactions (the watchable store's notify), or
   * clears it with undefined. It runs synchronously at the end of each changing transaction,
   * after the store's revision was raised. Throws if another listener is set.
   */
  setTxnListener(listener: TxnListener | undefined): void {
    if (listener !== undefined && this.txnListener !== undefined) throw new Error('mvcc: a transaction listener is already set');
    this.txnListener = listener;
  }

  /** @internal Called by TxnWrite.end after a transaction that changed the store. */
  txnEnded(rev: number, events: readonly Event[]): void {
    this.txnListener?.(rev, events);
  }

  /** Puts one key in its own transaction (see TxnWrite.put). */
  put(key: Uint8Array, value: Uint8Array, lease: bigint = 0n, options?: PutOptions): PutOutcome {
    const txn = this.write();
    const out = txn.put(key, value, lease, options);
    txn.end();
    return out;
  }

  /** Deletes a range in its own transaction (see TxnWrite.deleteRange). */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array, options?: { readonly prevKv?: boolean }): DeleteResult {
    const txn = this.write();
    const out = txn.deleteRange(key, rangeEnd, options);
    txn.end();
    return out;
  }

  /**
   * Compacts at `rev`: from now on reads below `rev` fail with 'compacted'. The index is compacted
   * at once; the backend's superseded revisions are deleted by the returned job, which the host
   * loop drives (`compactionStep`). The scheduled revision goes into the open batch, so a restart
   * resumes the job.
   */
  compact(rev: number): CompactOutcome {
    if (rev <= this.compacted) return this.failure('compacted');
    if (rev > this.current) return this.failure('future-rev');
    this.compacted = rev;
    this.backend.batchTx.put(this.metaBucket, SCHEDULED_COMPACT_KEY, revToBytes(rev, 0));
    const keep = this.index.compact(rev);
    const job = new CompactionJob(this.backend, this.keyBucket, this.metaBucket, rev, keep);
    this.compactions.push(job);
    return { ok: true, job };
  }

  /** The oldest compaction whose physical deletes have not finished. */
  pendingCompaction(): CompactionJob | undefined {
    return this.compactions[0];
  }

  /**
   * Runs one batch of the oldest pending compaction (deletes go into the backend's open batch;
   * commit after). Returns whether compaction work remains. Call between apply batches.
   */
  compactionStep(batchLimit = 1000): boolean {
    const job = this.compactions[0];
    if (job === undefined) return false;
    if (!job.step(batchLimit)) this.compactions.shift();
    return this.compactions.length > 0;
  }

  /** The backend's hash of everything but the consistent index, with the current revision. */
  hash(): { hash: number; rev: number } {
    return { hash: this.backend.hash(DEFAULT_HASH_IGNORES), rev: this.current };
  }

  /**
   * etcd's HashKV: CRC-32C over the `key` bucket name, then every revision key and record up to
   * `rev` (0: current) that a compaction at the current compact revision keeps. Members that
   * applied the same history agree on it whether or not their physical compaction has finished.
   */
  hashByRev(rev: number): HashKvOutcome {
    const compactRev = this.compacted;
    const currentRev = this.current;
    if (rev > 0 && rev <= compactRev) return this.failure('compacted');
    if (rev > 0 && rev > currentRev) return this.failure('future-rev');
    if (rev === 0) rev = currentRev;
    const keep = this.index.keep(rev);
    const lower = compactRev + 1;
    let h = crc32cUpdate(0, this.keyBucket.nameBytes);
    this.backend.scan(this.keyBucket, new Uint8Array(0), mainRevPrefix(rev + 1), (k, v) => {
      const main = mainOfRevBytes(k);
      // Revisions the running compaction will delete are skipped, unless nothing is kept.
      if (main < lower && keep.size > 0 && !keep.has(main, subOfRevBytes(k))) return;
      h = crc32cUpdate(h, k);
      h = crc32cUpdate(h, v);
    });
    return { ok: true, hash: h, currentRev, compactRev };
  }

  /** Commits the backend's open batch (see Backend.commit). */
  commit(): Promise<void> {
    return this.backend.commit();
  }
}
