import { open, type Database, type DatabaseOptions, type RootDatabase } from 'lmdb';
import { renameSync, rmSync, statSync } from 'node:fs';
import { BatchTx, PendingWrites, type BatchCommitter } from './batch-tx.js';
import { Bucket } from './bucket.js';
import { update as crc32cUpdate } from '../pkg/crc32c.js';
import { keyBytes, keyString } from './key-string.js';

/** Options of `Backend.open`. */
export interface BackendOptions {
  /** The database file; lmdb keeps its lock file at `<path>-lock`. Created when missing. */
  readonly path: string;
  /** Initial lmdb map size in bytes (lmdb-js grows it on demand). */
  readonly mapSize?: number;
  /**
   * Skip every fsync (lmdb's MDB_NOSYNC). Only for throwaway stores in tests and benchmarks: an OS
   * crash or power loss may then leave a corrupt B+tree. Default false.
   */
  readonly unsafeNoSync?: boolean;
}

/** File size figures of the backend, for quotas and `Status`. */
export interface BackendSize {
  /** Bytes of the database file (etcd's `dbSize`). */
  readonly size: number;
  /** Bytes of pages holding live data (etcd's `dbSizeInUse`); the rest is free pages. */
  readonly sizeInUse: number;
}

/** A bucket and key left out of `hash`, as etcd's `backend.IgnoreKey`. */
export interface IgnoreKey {
  readonly bucket: string;
  readonly key: string;
}

/** Visitor of a range scan; return `false` to stop early. */
export type RangeVisitor = (key: Uint8Array, value: Uint8Array) => boolean | void;

/** Name of the bucket holding the backend's own bookkeeping (consistent index, compaction marks). */
export const META_BUCKET = 'meta';
/** Key of the raft applied index in the meta bucket, as etcd (8 bytes, big-endian). */
export const CONSISTENT_INDEX_KEY = 'consistent_index';

/**
 * The keys etcd leaves out of its backend hash: the consistent index differs between members
 * that applied the same data (etcd's `DefaultIgnores`).
 */
export const DEFAULT_HASH_IGNORES: readonly IgnoreKey[] = [{ bucket: META_BUCKET, key: CONSISTENT_INDEX_KEY }];

const MAX_BUCKETS = 64;
const consistentIndexKey = keyBytes(CONSISTENT_INDEX_KEY);

/**
 * The embedded B+tree store: named buckets in one lmdb environment, one write batch (`batchTx`)
 * committed as one lmdb transaction, and reads that see every write at once, committed or not.
 *
 * Durability: the WAL makes applied entries durable, so a commit resolves once lmdb has committed
 * the transaction (visible, ordered), not once it is on disk. lmdb-js's `overlappingSync` (its
 * default on Linux) is kept, with syncing on: the fsync of a transaction runs after the write lock
 * is released, overlapped with later transactions, and lmdb-js records which transaction is
 * flushed. On open after an OS crash or power loss (a new boot id) it opens at the last flushed
 * transaction (lmdb's MDB_PREVSNAPSHOT), an intact B+tree; after a process crash alone the page
 * cache still holds every commit and the latest one is used. Either way the commits lost are
 * replayed from the WAL, because `consistentIndex` is committed in the same transaction as the
 * data it covers. `noSync` (no fsync) and `useWritemap` are not used: after an OS crash either can
 * leave pages of the tree unwritten under a meta page that points at them. `flushed()` tells when
 * commits are on disk, which must hold before the WAL is released for them.
 *
 * Reads (`get`, `getView`, `forEach`, `scan`, `range`) merge, newest first, the open batch, the
 * sealed batches whose lmdb commit is still running, and lmdb's latest committed snapshot.
 * Single-threaded use only.
 */
export class Backend implements BatchCommitter {
  /** The one write batch; see BatchTx. */
  readonly batchTx: BatchTx;

  private env: RootDatabase;
  private readonly buckets = new Map<string, Bucket>();
  /** Sealed batches whose lmdb transaction has not resolved yet, oldest first. */
  private readonly inFlight: PendingWrites[] = [];
  private lastCommit: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closed = false;
  private readonly meta: Bucket;

  private constructor(private readonly options: BackendOptions) {
    this.env = Backend.openEnv(options);
    this.batchTx = new BatchTx(this);
    this.meta = this.bucket(META_BUCKET);
    for (const name of this.env.getKeys()) {
      if (typeof name === 'string') this.bucket(name);
    }
  }

  /** Opens (creating when missing) the backend at `options.path`. */
  static open(options: BackendOptions): Backend {
    return new Backend(options);
  }

  private static openEnv(options: BackendOptions): RootDatabase {
    return open({
      path: options.path,
      noSubdir: true,
      maxDbs: MAX_BUCKETS,
      mapSize: options.mapSize,
      overlappingSync: options.unsafeNoSync !== true,
      noSync: options.unsafeNoSync === true,
    });
  }

  /** The file path of the database. */
  get path(): string {
    return this.options.path;
  }

  /** The bucket named `name`, created when missing. */
  bucket(name: string): Bucket {
    this.checkOpen();
    let b = this.buckets.get(name);
    if (b === undefined) {
      b = new Bucket(name, ...this.openHandles(name));
      this.buckets.set(name, b);
    }
    return b;
  }

  /** The copying and the viewing lmdb handle of bucket `name`. */
  private openHandles(name: string): [Database<Buffer, Buffer>, Database<Uint8Array, Buffer>] {
    const db = this.env.openDB<Buffer, Buffer>(name, { keyEncoding: 'binary', encoding: 'binary' });
    // A decoder that hands out lmdb's shared read buffer itself saves copying every value of a
    // scan; the bytes are only valid until the next read, which Backend.scan documents.
    const viewOptions: ViewDatabaseOptions = {
      keyEncoding: 'binary',
      encoder: {
        encode: (v: Uint8Array) => v,
        // lmdb-js overrides `length` on its shared buffer; a real view gives a true byteLength.
        decode: (bytes: Uint8Array, size: number) => bytes.subarray(0, size),
      },
    };
    return [db, this.env.openDB<Uint8Array, Buffer>(name, viewOptions)];
  }

  /** Names of every bucket, sorted by name bytes. */
  bucketNames(): string[] {
    return [...this.buckets.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** @internal */
  checkOpen(): void {
    if (this.closed) throw new Error('backend: closed');
    if (this.failure !== undefined) throw new Error(`backend: an earlier commit failed: ${String(this.failure)}`);
  }

  /**
   * The value of `key` in `bucket`, or undefined. The result may be shared with the batch that
   * wrote it: do not change it.
   */
  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    this.checkOpen();
    const pending = this.lookupPending(bucket, key);
    if (pending !== undefined) return pending ?? undefined;
    return bucket.db.getBinary(key as Buffer);
  }

  /**
   * As `get`, without copying a value read from lmdb: the result is only valid until the next call
   * into the backend. For decoding on hot paths.
   */
  getView(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    this.checkOpen();
    const pending = this.lookupPending(bucket, key);
    if (pending !== undefined) return pending ?? undefined;
    // The shared buffer lmdb-js returns overrides `length`; a view gives a true byteLength.
    const v = bucket.db.getBinaryFast(key as Buffer);
    return v === undefined ? undefined : v.subarray(0, v.length);
  }

  private lookupPending(bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    const current = this.batchTx.current();
    if (current.buckets.size === 0 && this.inFlight.length === 0) return undefined;
    let ks: string | undefined;
    if (current.buckets.has(bucket)) {
      ks = keyString(key);
      const v = current.lookup(bucket, ks);
      if (v !== undefined) return v;
    }
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const p = this.inFlight[i]!;
      if (!p.buckets.has(bucket)) continue;
      ks ??= keyString(key);
      const v = p.lookup(bucket, ks);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /**
   * Visits the keys of `bucket` in [start, end) in ascending byte order (`end` undefined: to the
   * last key), with their values, until `visit` returns false. Keys and values passed to `visit`
   * are its own to keep.
   */
  forEach(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, visit: RangeVisitor): void {
    this.merged(bucket, bucket.db, start, end, visit);
  }

  /**
   * As `forEach`, without copying values read from lmdb: a value passed to `visit` is only valid
   * during that call (keys are still the visitor's). For scans that decode as they go: restore,
   * hashing, compaction.
   */
  scan(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, visit: RangeVisitor): void {
    this.merged(bucket, bucket.viewDb, start, end, visit);
  }

  private merged(bucket: Bucket, db: Database<Uint8Array, Buffer>, start: Uint8Array, end: Uint8Array | undefined, visit: RangeVisitor): void {
    this.checkOpen();
    const overlay = this.pendingInRange(bucket, start, end);
    const it = db.getRange({ start: start as Buffer, end: end as Buffer | undefined });
    if (overlay === undefined) {
      for (const { key, value } of it) if (visit(key, value) === false) return;
      return;
    }
    const keys = [...overlay.keys()].sort();
    let oi = 0;
    for (const { key, value } of it) {
      const ks = keyString(key);
      while (oi < keys.length && keys[oi]! < ks) {
        const k = keys[oi++]!;
        const v = overlay.get(k)!;
        if (v !== null && visit(keyBytes(k), v) === false) return;
      }
      if (oi < keys.length && keys[oi] === ks) {
        const v = overlay.get(keys[oi++]!)!;
        if (v !== null && visit(key, v) === false) return;
        continue;
      }
      if (visit(key, value) === false) return;
    }
    for (; oi < keys.length; oi++) {
      const k = keys[oi]!;
      const v = overlay.get(k)!;
      if (v !== null && visit(keyBytes(k), v) === false) return;
    }
  }

  /** Pending writes of `bucket` in [start, end), newest winning; undefined when there are none. */
  private pendingInRange(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined): Map<string, Uint8Array | null> | undefined {
    const layers: Map<string, Uint8Array | null>[] = [];
    for (const p of this.inFlight) {
      const m = p.buckets.get(bucket);
      if (m !== undefined) layers.push(m);
    }
    const cur = this.batchTx.current().buckets.get(bucket);
    if (cur !== undefined) layers.push(cur);
    if (layers.length === 0) return undefined;
    const lo = keyString(start);
    const hi = end === undefined ? undefined : keyString(end);
    const merged = new Map<string, Uint8Array | null>();
    for (const m of layers) {
      for (const [k, v] of m) if (k >= lo && (hi === undefined || k < hi)) merged.set(k, v);
    }
    return merged.size === 0 ? undefined : merged;
  }

  /** The keys and values of `bucket` in [start, end), ascending, at most `limit` (0: all). */
  range(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, limit = 0): { keys: Uint8Array[]; values: Uint8Array[] } {
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    this.forEach(bucket, start, end, (k, v) => {
      keys.push(k);
      values.push(v);
      return limit <= 0 || keys.length < limit;
    });
    return { keys, values };
  }

  /** Commits the open batch; see BatchTx.commit. */
  commit(): Promise<void> {
    return this.batchTx.commit();
  }

  /** @internal Sends a sealed batch to lmdb as one transaction. */
  commitPending(pending: PendingWrites): Promise<void> {
    this.checkOpen();
    if (pending.ops === 0) return this.lastCommit;
    this.inFlight.push(pending);
    const done = this.env.batch(() => {
      for (const [bucket, writes] of pending.buckets) {
        const db = bucket.db;
        for (const [k, v] of writes) {
          if (v === null) void db.remove(keyBytes(k));
          else void db.put(keyBytes(k), v as Buffer);
        }
      }
    });
    // lmdb commits transactions in the order they were queued, so the oldest in-flight batch is
    // the one that just landed; lmdb-js has renewed its read snapshot before resolving.
    this.lastCommit = done.then(
      () => {
        this.inFlight.shift();
      },
      (err: unknown) => {
        this.failure ??= err;
        throw err;
      },
    );
    return this.lastCommit;
  }

  /** Resolves when every commit so far is flushed to disk (durable across an OS crash). */
  async flushed(): Promise<void> {
    await this.lastCommit;
    await this.env.flushed;
  }

  /** The raft applied index stored with the data (0 for a new backend), pending writes included. */
  consistentIndex(): number {
    const v = this.get(this.meta, consistentIndexKey);
    if (v === undefined) return 0;
    const n = Buffer.from(v.buffer, v.byteOffset, v.byteLength).readBigUInt64BE(0);
    return Number(n);
  }

  /** Writes the raft applied index into the open batch, to commit with the data it covers. */
  setConsistentIndex(index: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(index), 0);
    this.batchTx.put(this.meta, consistentIndexKey, b);
  }

  /** Size of the file and of its live pages. */
  size(): BackendSize {
    this.checkOpen();
    const size = statSync(this.options.path).size;
    const root = this.env.getStats() as LmdbStats;
    let pages = 2 + treePages(root) + (root.free === undefined ? 0 : treePages(root.free));
    for (const b of this.buckets.values()) pages += treePages(b.db.getStats() as LmdbStats);
    return { size, sizeInUse: Math.min(size, pages * root.pageSize) };
  }

  /**
   * CRC-32C over every bucket in name order, each as its name then its keys and values in key
   * order, leaving out `ignores`, as etcd's `backend.Hash`. Pending writes are included.
   */
  hash(ignores: readonly IgnoreKey[] = DEFAULT_HASH_IGNORES): number {
    let h = 0;
    for (const name of this.bucketNames()) {
      const bucket = this.buckets.get(name)!;
      const skip = new Set(ignores.filter((i) => i.bucket === name).map((i) => keyString(Buffer.from(i.key))));
      h = crc32cUpdate(h, bucket.nameBytes);
      this.scan(bucket, new Uint8Array(0), undefined, (k, v) => {
        if (skip.size > 0 && skip.has(keyString(k))) return;
        h = crc32cUpdate(h, k);
        h = crc32cUpdate(h, v);
      });
    }
    return h;
  }

  /**
   * Writes a consistent copy of the database, everything committed so far included, to `path`
   * (lmdb's mdb_env_copy from a read snapshot: writes may go on meanwhile). With `compact`, free
   * pages are left out. For Maintenance.Snapshot and for sending a snapshot to a follower.
   */
  async copyTo(path: string, compact = false): Promise<void> {
    await this.commit();
    await this.env.backup(path, compact);
  }

  /**
   * Rewrites the file without free pages (etcd's defrag): commits, copies a compacted image with
   * lmdb's backup, and reopens on it. Reads and writes must wait until it resolves.
   */
  async defrag(): Promise<void> {
    await this.commit();
    await this.flushed();
    const tmp = `${this.options.path}.defrag`;
    rmSync(tmp, { force: true });
    await this.env.backup(tmp, true);
    await this.env.close();
    renameSync(tmp, this.options.path);
    this.env = Backend.openEnv(this.options);
    for (const b of this.buckets.values()) [b.db, b.viewDb] = this.openHandles(b.name);
  }

  /** Commits the open batch, waits for every commit to be flushed, and closes lmdb. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.failure === undefined) {
      await this.commit();
      await this.flushed();
    }
    this.closed = true;
    await this.env.close();
  }
}

/** lmdb-js's `encoder` database option, documented in its README but missing from its types. */
interface ViewDatabaseOptions extends DatabaseOptions {
  encoder: { encode(v: Uint8Array): Uint8Array; decode(bytes: Uint8Array, size: number): Uint8Array };
}

interface LmdbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  free?: LmdbStats;
}

function treePages(s: LmdbStats): number {
  return s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
}
