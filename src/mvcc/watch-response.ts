import type { Event, KeyValue } from './key-value.js';
import { varintLen } from '../pkg/varint.js';

/** A change delivered to a watcher: an Event, with the key-value before it when asked for. */
export interface WatchEvent extends Event {
  /** The key's key-value at the revision before the change, for watchers created with prevKv. */
  readonly prevKv?: KeyValue;
}

/** What a watcher may ask to leave out (etcd's WatchCreateRequest.filters). */
export type WatchFilter = 'noPut' | 'noDelete';

/** The watch ID of a progress notification for every watcher of a stream (etcd's InvalidWatchID). */
export const PROGRESS_ALL_WATCH_ID = -1;

/**
 * One message on a watch stream (etcd's mvcc.WatchResponse). Events are ordered by revision,
 * never repeat or skip one of the watcher's, and never split a revision across two responses.
 * A response with no events and `compactRevision` 0 is a progress notification: the watcher
 * has seen everything up to `revision`.
 *
 * Ownership: the arrays are shared with other watchers' responses; the consumer must not change
 * them.
 */
export interface WatchResponse {
  /** The watcher; PROGRESS_ALL_WATCH_ID for a stream-wide progress notification. */
  readonly watchId: number;
  readonly events: readonly WatchEvent[];
  /** The store's revision when the response was made (the response header's revision). */
  readonly revision: number;
  /**
   * Non-zero when the watcher's start revision was compacted: no events follow, and the caller
   * must cancel the watcher (etcd cancels it in the gRPC layer).
   */
  readonly compactRevision: number;
}

function leaseVarintLen(lease: bigint): number {
  // A negative int64 is sent as its 64-bit two's complement: ten bytes.
  if (lease < 0n) return 10;
  let len = 1;
  while (lease >= 0x80n) {
    lease >>= 7n;
    len++;
  }
  return len;
}

/** The protobuf-encoded size of `kv` as mvccpb.KeyValue (proto3: zero fields left out). */
export function keyValueSize(kv: KeyValue): number {
  let size = 0;
  if (kv.key.length > 0) size += 1 + varintLen(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0) size += 1 + varintLen(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + varintLen(kv.modRevision);
  if (kv.version !== 0) size += 1 + varintLen(kv.version);
  if (kv.value.length > 0) size += 1 + varintLen(kv.value.length) + kv.value.length;
  if (kv.lease !== 0n) size += 1 + leaseVarintLen(kv.lease);
  return size;
}

/** The protobuf-encoded size of `ev` as mvccpb.Event: what the gRPC edge needs to fragment. */
export function eventSize(ev: WatchEvent): number {
  let size = ev.type === 'delete' ? 2 : 0;
  const kvSize = keyValueSize(ev.kv);
  size += 1 + varintLen(kvSize) + kvSize;
  if (ev.prevKv !== undefined) {
    const prevSize = keyValueSize(ev.prevKv);
    size += 1 + varintLen(prevSize) + prevSize;
  }
  return size;
}

/**
 * The encoded size of the events of `resp` inside an etcdserverpb.WatchResponse (field 11,
 * repeated): the bulk of the message, to compare with the maximum request size.
 */
export function watchResponseSize(resp: WatchResponse): number {
  let size = 0;
  for (const ev of resp.events) {
    const s = eventSize(ev);
    size += 1 + varintLen(s) + s;
  }
  return size;
}
