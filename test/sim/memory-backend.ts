/**
 * An in-memory stand-in for the lmdb backend, for the server simulation: the same surface the
 * MVCC store, the lessor, the alarm and membership stores use (buckets, the one BatchTx, reads
 * that see pending writes, commit, consistent index, hash), with the same semantics, but
 * synchronous and without files. What `commit` made durable is the "file": it survives a
 * simulated crash (`reopen`), while the open batch does not. `image`/`fromImage` copy the
 * committed state, as a backend file sent with a MsgSnap.
 */
import { DEFAULT_HASH_IGNORES, META_BUCKET, CONSISTENT_INDEX_KEY, type Backend, type IgnoreKey, type RangeVisitor } from '../../src/backend/backend.js';
import { BatchTx, type BatchCommitter, type PendingWrites } from '../../src/backend/batch-tx.js';
import { Bucket } from '../../src/backend/bucket.js';
import { keyBytes, keyString } from '../../src/backend/key-string.js';
import { update as crc32cUpdate } from '../../src/pkg/crc32c.js';

/** The part of Backend that the state machines call; MemoryBackend implements all of it. */
export type BackendSurface = Pick<
  Backend,
  | 'batchTx'
  | 'bucket'
  | 'bucketNames'
  | 'checkOpen'
  | 'get'
  | 'getView'
  | 'forEach'
  | 'scan'
  | 'range'
  | 'commit'
  | 'commitPending'
  | 'consistentIndex'
  | 'setConsistentIndex'
  | 'hash'
>;

/** One bucket's committed content: values by latin1 key, and the keys in byte order. */
class StoredBucket {
  readonly values = new Map<string, Uint8Array>();
  /** invariant: exactly the keys of `values`, ascending. */
  readonly keys: string[] = [];

  set(k: string, v: Uint8Array): void {
    if (!this.values.has(k)) {
      const ks = this.keys;
      // Revision keys grow: appending is the common case.
      if (ks.length === 0 || ks[ks.length - 1]! < k) ks.push(k);
      else ks.splice(lowerBound(ks, k), 0, k);
    }
    this.values.set(k, v);
  }

  delete(k: string): void {
    if (!this.values.delete(k)) return;
    this.keys.splice(lowerBound(this.keys, k), 1);
  }
}

/** The first position in sorted `a` whose key is >= k. */
function lowerBound(a: readonly string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The committed content of a backend: what survives a crash. */
export class BackendFile {
  readonly buckets = new Map<string, StoredBucket>();

  stored(name: string): StoredBucket {
    let b = this.buckets.get(name);
    if (b === undefined) {
      b = new StoredBucket();
      this.buckets.set(name, b);
    }
    return b;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const consistentIndexKey = keyBytes(CONSISTENT_INDEX_KEY);

/** See the file comment. Single-threaded; every commit completes before `commit` returns. */
export class MemoryBackend implements BackendSurface, BatchCommitter {
  readonly batchTx: BatchTx;
  private readonly handles = new Map<string, Bucket>();
  private readonly meta: Bucket;
  private closed = false;
  /** Commits made, for the report. */
  commits = 0;

  /** A backend over `file` (a new empty one by default); pending writes start empty. */
  constructor(readonly file: BackendFile = new BackendFile()) {
    this.batchTx = new BatchTx(this);
    this.meta = this.bucket(META_BUCKET);
    for (const name of file.buckets.keys()) this.bucket(name);
  }

  /** The backend as the state machines' type; the simulation's one cast to it. */
  asBackend(): Backend {
    return this as unknown as Backend;
  }

  /** A fresh backend over the same file, as after a crash: the open batch is lost. This one closes. */
  reopen(): MemoryBackend {
    this.closed = true;
    return new MemoryBackend(this.file);
  }

  /** Closes this backend: later calls throw (a crashed process's objects must not be used). */
  close(): void {
    this.closed = true;
  }

  bucket(name: string): Bucket {
    let b = this.handles.get(name);
    if (b === undefined) {
      // The lmdb handles are never touched here: every read goes through the stored buckets.
      b = new Bucket(name, undefined as never, undefined as never);
      this.handles.set(name, b);
      this.file.stored(name);
    }
    return b;
  }

  bucketNames(): string[] {
    return [...this.handles.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  checkOpen(): void {
    if (this.closed) throw new Error('memory backend: closed');
  }

  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    this.checkOpen();
    const ks = keyString(key);
    const p = this.batchTx.current().lookup(bucket, ks);
    if (p !== undefined) return p ?? undefined;
    return this.file.stored(bucket.name).values.get(ks);
  }

  getView(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    return this.get(bucket, key);
  }

  forEach(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, visit: RangeVisitor): void {
    this.checkOpen();
    const lo = keyString(start);
    const hi = end === undefined ? undefined : keyString(end);
    const stored = this.file.stored(bucket.name);
    const pending = this.batchTx.current().buckets.get(bucket);
    const overlay: string[] = [];
    if (pending !== undefined) for (const k of pending.keys()) if (k >= lo && (hi === undefined || k < hi)) overlay.push(k);
    overlay.sort();
    // Copy the window first: a visitor may write into the batch (compaction deletes as it scans).
    const from = lowerBound(stored.keys, lo);
    const to = hi === undefined ? stored.keys.length : lowerBound(stored.keys, hi);
    const keys = stored.keys.slice(from, to);
    let oi = 0;
    const emit = (k: string, v: Uint8Array | null | undefined): boolean => v === null || v === undefined || visit(keyBytes(k), v) !== false;
    for (const k of keys) {
      while (oi < overlay.length && overlay[oi]! < k) {
        const ok = overlay[oi++]!;
        if (!emit(ok, pending!.get(ok))) return;
      }
      if (oi < overlay.length && overlay[oi] === k) {
        oi++;
        if (!emit(k, pending!.get(k))) return;
        continue;
      }
      if (!emit(k, stored.values.get(k))) return;
    }
    for (; oi < overlay.length; oi++) {
      const ok = overlay[oi]!;
      if (!emit(ok, pending!.get(ok))) return;
    }
  }

  scan(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, visit: RangeVisitor): void {
    this.forEach(bucket, start, end, visit);
  }

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

  commit(): Promise<void> {
    return this.batchTx.commit();
  }

  /** Writes a sealed batch into the file at once (one atomic commit). */
  commitPending(pending: PendingWrites): Promise<void> {
    this.checkOpen();
    if (pending.ops === 0) return Promise.resolve();
    this.commits++;
    for (const [bucket, writes] of pending.buckets) {
      const stored = this.file.stored(bucket.name);
      for (const [k, v] of writes) {
        if (v === null) stored.delete(k);
        else stored.set(k, v);
      }
    }
    return Promise.resolve();
  }

  /** Commits the open batch now (the promise of `commit` is already settled). */
  commitNow(): void {
    void this.commit();
  }

  /** Whether writes wait in the open batch. */
  get pendingOps(): number {
    return this.batchTx.pendingOps;
  }

  consistentIndex(): number {
    const v = this.get(this.meta, consistentIndexKey);
    if (v === undefined) return 0;
    return Number(Buffer.from(v.buffer, v.byteOffset, v.byteLength).readBigUInt64BE(0));
  }

  setConsistentIndex(index: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(index), 0);
    this.batchTx.put(this.meta, consistentIndexKey, b);
  }

  hash(ignores: readonly IgnoreKey[] = DEFAULT_HASH_IGNORES): number {
    let h = 0;
    for (const name of this.bucketNames()) {
      const bucket = this.handles.get(name)!;
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

  /** A copy of the committed content (pending writes excluded), as a snapshot's backend file. */
  image(): Uint8Array {
    const parts: Uint8Array[] = [];
    let size = 0;
    const names = [...this.file.buckets.keys()].sort();
    const u32 = (n: number): Uint8Array => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, n);
      return b;
    };
    const push = (b: Uint8Array): void => {
      parts.push(b);
      size += b.length;
    };
    push(u32(names.length));
    for (const name of names) {
      const stored = this.file.buckets.get(name)!;
      const nb = enc.encode(name);
      push(u32(nb.length));
      push(nb);
      push(u32(stored.keys.length));
      for (const k of stored.keys) {
        const kb = keyBytes(k);
        const v = stored.values.get(k)!;
        push(u32(kb.length));
        push(kb);
        push(u32(v.length));
        push(v.slice());
      }
    }
    const out = new Uint8Array(size);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /** A backend whose file holds the content of `image`. */
  static fromImage(image: Uint8Array): MemoryBackend {
    const file = new BackendFile();
    const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
    let off = 0;
    const u32 = (): number => {
      const n = dv.getUint32(off);
      off += 4;
      return n;
    };
    const bytes = (): Uint8Array => {
      const n = u32();
      const b = image.slice(off, off + n);
      off += n;
      return b;
    };
    const buckets = u32();
    for (let i = 0; i < buckets; i++) {
      const stored = file.stored(dec.decode(bytes()));
      const n = u32();
      for (let j = 0; j < n; j++) {
        const k = keyString(bytes());
        stored.set(k, bytes());
      }
    }
    if (off !== image.length) throw new Error(`memory backend image: ${image.length - off} trailing bytes`);
    return new MemoryBackend(file);
  }
}
