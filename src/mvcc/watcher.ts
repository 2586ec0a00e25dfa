import type { RangeEnd } from './tree-index.js';
import type { WatchResponse } from './watch-response.js';

/**
 * Where a watcher is (etcd keeps the same split in watchableStore):
 * - `new`: created, not placed yet;
 * - `synced`: has seen every revision up to the store's; gets each write as it happens;
 * - `unsynced`: behind; caught up from the backend by `syncWatchers`;
 * - `victim`: its stream was full; holds one undelivered response until the stream drains;
 * - `compacted`: its next revision was compacted; told so, waiting for the caller to cancel it;
 * - `canceled`: gone.
 */
export type WatcherState = 'new' | 'synced' | 'unsynced' | 'victim' | 'compacted' | 'canceled';

/** The stream a watcher delivers to, as the store sees it. */
export interface WatcherSink {
  /** Queues `resp` unless the stream is full; returns whether it was queued. */
  trySend(resp: WatchResponse): boolean;
  /** invariant: number of the stream's watchers that are unsynced or victims. */
  behind: number;
  /** invariant: number of the stream's watchers that are victims. */
  victims: number;
}

/**
 * One watch on a key or range (etcd's watcher). Owned by its stream; moved between the store's
 * groups by the store only.
 */
export class Watcher {
  /** See WatcherState; only the store changes it. */
  state: WatcherState = 'new';
  /** The response a victim could not deliver; undefined unless state is `victim`. */
  pending: WatchResponse | undefined = undefined;

  constructor(
    /** The watch ID, unique in its stream. */
    readonly id: number,
    /** The watched key, as a latin1 key string. */
    readonly key: string,
    /** null: only `key`; '': every key from `key` on; otherwise the exclusive end. */
    readonly end: RangeEnd,
    /**
     * The first revision whose events the watcher may still get: it has been sent (or holds as
     * pending) every matching event below it, so events reach it in increasing revision order,
     * never twice. A synced watcher has also seen every revision up to the store's.
     */
    public minRev: number,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    /** Whether events carry the key-value before the change. */
    readonly prevKv: boolean,
    readonly sink: WatcherSink,
  ) {}
}
