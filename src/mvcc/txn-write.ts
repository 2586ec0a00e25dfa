import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { keyBytes, keyString } from '../backend/key-string.js';
import { IndexEntry } from './key-index.js';
import { EMPTY_BYTES, type Event, type KeyValue } from './key-value.js';
import { encodeKeyValue } from './kv-codec.js';
import type { LeaseAttacher } from './lease-attacher.js';
import type { RangeOptions, RangeOutcome, RangeReader } from './range-result.js';
import { revKeyString } from './revision.js';
import type { RangeEnd, TreeIndex } from './tree-index.js';

/** What a write transaction needs from its store. */
export interface TxnStore {
  readonly index: TreeIndex;
  readonly backend: Backend;
  readonly keyBucket: Bucket;
  readonly lessor: LeaseAttacher | undefined;
  readonly currentRev: number;
  rangeAt(key: Uint8Array, rangeEnd: Uint8Array | undefined, curRev: number, options: RangeOptions | undefined): RangeOutcome;
  readKeyValue(main: number, sub: number, keysOnly?: boolean): KeyValue;
  endTxn(txn: TxnWrite, changed: boolean): void;
  /** Called after a transaction that changed the store ended, with its revision and events. */
  txnEnded?(rev: number, events: readonly Event[]): void;
}

/** Options of a put, as etcd's PutRequest flags. */
export interface PutOptions {
  /** Return the key-value this put replaces. */
  readonly prevKv?: boolean;
  /** Keep the current value (the key must exist). */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the key must exist). */
  readonly ignoreLease?: boolean;
}

/** What a put returns. */
export type PutOutcome =
  | { readonly ok: true; readonly rev: number; readonly prevKv?: KeyValue }
  /** ignoreValue or ignoreLease on a key that does not exist (etcd's ErrKeyNotFound). */
  | { readonly ok: false; readonly code: 'key-not-found' };

/** What a deleteRange returns. */
export interface DeleteResult {
  /** Number of keys deleted. */
  readonly deleted: number;
  /** The revision of the response header: the txn's next revision when it changed anything. */
  readonly rev: number;
  /** The deleted key-values, when asked for. */
  readonly prevKvs?: KeyValue[];
}

/** What `end()` returns. */
export interface TxnEndResult {
  /** The store's revision after the transaction. */
  readonly rev: number;
  /** The changes, in order, for watchers. Empty when the transaction changed nothing. */
  readonly events: Event[];
}

/** Converts a range end from bytes to the index's form: absent/empty: single key, "\0": to the end. */
export function rangeEndOf(rangeEnd: Uint8Array | undefined): RangeEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return '';
  return keyString(rangeEnd);
}

/**
 * A write transaction (etcd's storeTxnWrite): every change it makes gets main revision
 * `rev + 1` with increasing sub revisions, and becomes visible to reads of the store when `end()`
 * raises the store's revision. Reads inside it see its own changes. One at a time per store.
 *
 * Ownership: put keeps the key and value arrays it is given; the caller must not change them.
 */
export class TxnWrite implements RangeReader {
  private readonly changes: KeyValue[] = [];
  private ended = false;
  private readonly entry = new IndexEntry();

  /** `beginRev` is the store's revision when the transaction began; it writes beginRev + 1. */
  constructor(
    private readonly store: TxnStore,
    readonly beginRev: number,
  ) {}

  /** The revision the transaction started from (etcd's TxnWrite.Rev()). */
  get rev(): number {
    return this.beginRev;
  }

  /** Number of changes made so far. */
  get changeCount(): number {
    return this.changes.length;
  }

  private checkOpen(): void {
    if (this.ended) throw new Error('mvcc: transaction already ended');
  }

  /** Reads at the transaction's view: its own changes included. */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options?: RangeOptions): RangeOutcome {
    this.checkOpen();
    const rev = this.changes.length > 0 ? this.beginRev + 1 : this.beginRev;
    return this.store.rangeAt(key, rangeEnd, rev, options);
  }

  /** Puts `value` under `key` attached to `lease` (0n: none). */
  put(key: Uint8Array, value: Uint8Array, lease: bigint = 0n, options?: PutOptions): PutOutcome {
    this.checkOpen();
    const store = this.store;
    const rev = this.beginRev + 1;
    const ks = keyString(key);
    const e = this.entry;
    const ki = store.index.keyIndex(ks);
    const exists = ki !== undefined && ki.get(rev, e);
    let prevKv: KeyValue | undefined;
    if (exists && (options?.prevKv === true || options?.ignoreValue === true || options?.ignoreLease === true)) {
      prevKv = store.readKeyValue(e.modMain, e.modSub);
    }
    if ((options?.ignoreValue === true || options?.ignoreLease === true) && prevKv === undefined) {
      return { ok: false, code: 'key-not-found' };
    }
    if (options?.ignoreValue === true) value = prevKv!.value;
    if (options?.ignoreLease === true) lease = prevKv!.lease;

    const created = exists ? e.created : rev;
    const version = exists ? e.ver + 1 : 1;
    const oldLease = exists && store.lessor !== undefined ? store.lessor.getLease(ks) : 0n;
    const sub = this.changes.length;
    const kv: KeyValue = { key, createRevision: created, modRevision: rev, version, value, lease };
    store.backend.batchTx.putKeyString(store.keyBucket, revKeyString(rev, sub), encodeKeyValue(kv));
    if (ki === undefined) store.index.insert(ks, rev, sub);
    else ki.put(rev, sub);
    this.changes.push(kv);

    if (store.lessor !== undefined) {
      if (oldLease !== 0n) store.lessor.detach(oldLease, ks);
      if (lease !== 0n) store.lessor.attach(lease, ks);
    }
    return options?.prevKv === true && prevKv !== undefined ? { ok: true, rev, prevKv } : { ok: true, rev };
  }

  /**
   * Deletes the keys in [key, rangeEnd) alive at the transaction's view (rangeEnd absent or
   * empty: only `key`; "\0": every key from `key` on).
   */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array, options?: { readonly prevKv?: boolean }): DeleteResult {
    this.checkOpen();
    const store = this.store;
    const readRev = this.changes.length > 0 ? this.beginRev + 1 : this.beginRev;
    const { keys, revs } = store.index.range(keyString(key), rangeEndOf(rangeEnd), readRev);
    let prevKvs: KeyValue[] | undefined;
    if (options?.prevKv === true) prevKvs = revs.map((r) => store.readKeyValue(r.main, r.sub));
    for (const ks of keys) this.delete(ks);
    const rev = keys.length !== 0 || this.changes.length > 0 ? this.beginRev + 1 : this.beginRev;
    return prevKvs === undefined ? { deleted: keys.length, rev } : { deleted: keys.length, rev, prevKvs };
  }

  private delete(ks: string): void {
    const store = this.store;
    const rev = this.beginRev + 1;
    const sub = this.changes.length;
    const key = keyBytes(ks);
    // A tombstone record holds only the key, as etcd writes it.
    const tomb: KeyValue = { key, createRevision: 0, modRevision: 0, version: 0, value: EMPTY_BYTES, lease: 0n };
    store.backend.batchTx.putKeyString(store.keyBucket, revKeyString(rev, sub, true), encodeKeyValue(tomb));
    if (!store.index.tombstone(ks, rev, sub)) throw new Error(`mvcc: cannot tombstone key ${JSON.stringify(ks)}: not alive`);
    this.changes.push({ key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY_BYTES, lease: 0n });
    if (store.lessor !== undefined) {
      const lease = store.lessor.getLease(ks);
      if (lease !== 0n) store.lessor.detach(lease, ks);
    }
  }

  /** The changes so far: puts as stored, deletes as tombstones (createRevision 0). */
  changed(): readonly KeyValue[] {
    return this.changes;
  }

  /** Ends the transaction: raises the store's revision if anything changed. */
  end(): TxnEndResult {
    this.checkOpen();
    this.ended = true;
    const changed = this.changes.length > 0;
    this.store.endTxn(this, changed);
    const events: Event[] = this.changes.map((kv) => ({ type: kv.createRevision === 0 ? 'delete' : 'put', kv }));
    const rev = this.store.currentRev;
    if (changed) this.store.txnEnded?.(rev, events);
    return { rev, events };
  }
}
