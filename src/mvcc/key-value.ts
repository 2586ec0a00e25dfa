/**
 * mvcc's own plain types for stored key-values and change events. The gRPC edge converts them to
 * and from the generated `mvccpb` messages.
 */

/** One version of a key, as etcd's `mvccpb.KeyValue`. */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Main revision of the put that created the key's current generation (0 for a tombstone). */
  readonly createRevision: number;
  /** Main revision of this version. */
  readonly modRevision: number;
  /** Number of puts in the key's current generation, this one included; a delete resets it to 0. */
  readonly version: number;
  /** Empty for a tombstone, and when read with `keysOnly`. */
  readonly value: Uint8Array;
  /** The lease the key is attached to; 0n for none. */
  readonly lease: bigint;
}

/** A change made by a write transaction, as etcd's `mvccpb.Event`. */
export interface Event {
  readonly type: 'put' | 'delete';
  /**
   * The key-value after the change. For a delete: only `key` and `modRevision` (the deleting
   * revision) are set, as etcd sends it.
   */
  readonly kv: KeyValue;
}

/** The empty byte array shared by tombstones and `keysOnly` reads; never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
