import { keyString } from '../backend/key-string.js';
import { rangeEndOf } from './txn-write.js';
import { PROGRESS_ALL_WATCH_ID, type WatchFilter, type WatchResponse } from './watch-response.js';
import { Watcher, type WatcherSink } from './watcher.js';

/** Ask for the next free watch ID (etcd's AutoWatchID). */
export const AUTO_WATCH_ID = 0;

/** The default bound of a stream's outgoing queue, in responses (etcd's chanBufLen). */
export const DEFAULT_WATCH_STREAM_CAPACITY = 128;

/** What `WatchStream.watch` returns. */
export type WatchOutcome =
  | { readonly ok: true; readonly id: number }
  /**
   * `watch-id-exists`: the requested ID is in use on this stream (etcd's ErrWatcherDuplicateID);
   * `empty-watcher-range`: key >= rangeEnd (etcd's ErrEmptyWatcherRange);
   * `stream-closed`: the stream was closed.
   */
  | { readonly ok: false; readonly code: 'watch-id-exists' | 'empty-watcher-range' | 'stream-closed' };

/** What a stream needs from its store (the WatchableStore implements it). */
export interface WatchHost {
  /** The store's current revision. */
  readonly currentRev: number;
  /** Places a new watcher: synced when it starts in the future, unsynced when in the past. */
  addWatcher(w: Watcher, startRev: number): void;
  /** Takes a watcher out of every group; it gets nothing more. */
  removeWatcher(w: Watcher): void;
  /** The stream's queue ran empty: retry its victims and deferred progress now. */
  drained(stream: WatchStream): void;
  /** The stream wants a progress notification once all its watchers are synced. */
  deferProgress(stream: WatchStream): void;
}

/**
 * A watch stream (etcd's mvcc.WatchStream): the watchers of one client stream and their shared,
 * bounded outgoing queue of responses. The store never blocks on a full queue: a watcher that
 * cannot send becomes a victim and is caught up from the backend once the consumer drains.
 *
 * Consumption: either `take()` until it returns undefined, woken by the `onReady` listener, or
 * `for await` over the stream. Single consumer.
 */
export class WatchStream implements WatcherSink, AsyncIterable<WatchResponse> {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private closed = false;
  private readonly buf: (WatchResponse | undefined)[];
  private head = 0;
  private count = 0;
  private taking = false;
  private waiter: ((r: IteratorResult<WatchResponse, undefined>) => void) | undefined;
  private readyListener: (() => void) | undefined;
  /** invariant: number of this stream's watchers that are unsynced or victims. */
  behind = 0;
  /** Number of this stream's watchers that are victims. */
  victims = 0;
  /** A progress-all request waits for every watcher to be synced (etcd 3.5 defers it so). */
  progressAllPending = false;

  /** `capacity`: the bound of the outgoing queue, in responses (>= 1). */
  constructor(
    private readonly host: WatchHost,
    readonly capacity: number = DEFAULT_WATCH_STREAM_CAPACITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`watch: stream capacity must be a positive integer, got ${capacity}`);
    this.buf = new Array<WatchResponse | undefined>(capacity).fill(undefined);
  }

  /**
   * Watches `key`, or [key, rangeEnd) (rangeEnd absent or empty: only key; "\0": every key from
   * key on), from `startRev` (0: from the next write). `id` AUTO_WATCH_ID picks the lowest free
   * ID from a counter starting at 0, as etcd does.
   *
   * A start revision at or below the current one replays history first; one that is compacted
   * gets a response with `compactRevision` set instead, and must then be canceled.
   */
  watch(
    id: number,
    key: Uint8Array,
    rangeEnd: Uint8Array | undefined,
    startRev: number,
    filters: readonly WatchFilter[] = [],
    prevKv = false,
  ): WatchOutcome {
    if (this.closed) return { ok: false, code: 'stream-closed' };
    const ks = keyString(key);
    const end = rangeEndOf(rangeEnd);
    if (end !== null && end !== '' && ks >= end) return { ok: false, code: 'empty-watcher-range' };
    if (id === AUTO_WATCH_ID) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      return { ok: false, code: 'watch-id-exists' };
    }
    const w = new Watcher(id, ks, end, 0, filters.includes('noPut'), filters.includes('noDelete'), prevKv, this);
    this.watchers.set(id, w);
    this.host.addWatcher(w, startRev);
    return { ok: true, id };
  }

  /**
   * Cancels watcher `id`: it gets nothing more, and its responses still queued are dropped.
   * Returns false when there is no such watcher (etcd's ErrWatcherNotExist).
   */
  cancel(id: number): boolean {
    const w = this.watchers.get(id);
    if (w === undefined) return false;
    this.watchers.delete(id);
    this.host.removeWatcher(w);
    this.purge(id);
    return true;
  }

  /**
   * Queues a progress notification for watcher `id` (no events, the current revision) if it is
   * synced. A watcher still catching up gets none: its next events will tell; nor does one whose
   * queue is full.
   */
  requestProgress(id: number): void {
    const w = this.watchers.get(id);
    if (w === undefined || w.state !== 'synced') return;
    this.trySend({ watchId: id, events: [], revision: this.host.currentRev, compactRevision: 0 });
  }

  /**
   * Queues one progress notification for the whole stream (watch ID -1) if every watcher is
   * synced and returns true; otherwise it is sent as soon as they are, and returns false.
   */
  requestProgressAll(): boolean {
    if (this.closed) return false;
    this.progressAllPending = true;
    if (this.maybeProgressAll()) return true;
    this.host.deferProgress(this);
    return false;
  }

  /** @internal Sends the deferred progress-all notification if it can; returns whether sent. */
  maybeProgressAll(): boolean {
    if (!this.progressAllPending || this.behind > 0) return false;
    if (!this.trySend({ watchId: PROGRESS_ALL_WATCH_ID, events: [], revision: this.host.currentRev, compactRevision: 0 })) return false;
    this.progressAllPending = false;
    return true;
  }

  /** The store's current revision (etcd's WatchStream.Rev). */
  rev(): number {
    return this.host.currentRev;
  }

  /** Number of watchers on the stream. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** @internal The stream's watchers, for the store. */
  watcherList(): Iterable<Watcher> {
    return this.watchers.values();
  }

  /** Whether the stream was closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Cancels every watcher and drops what is queued; an iterating consumer ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) this.host.removeWatcher(w);
    this.watchers.clear();
    this.buf.fill(undefined);
    this.head = this.count = 0;
    this.progressAllPending = false;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** Number of responses queued. */
  get length(): number {
    return this.count;
  }

  /**
   * The oldest queued response, or undefined when there is none. Finding the queue empty gives
   * the stream's victims their chance to resend first.
   */
  take(): WatchResponse | undefined {
    if (this.count === 0) {
      if (this.closed || (this.victims === 0 && !this.progressAllPending)) return undefined;
      this.taking = true;
      try {
        this.host.drained(this);
      } finally {
        this.taking = false;
      }
      if (this.count === 0) return undefined;
    }
    const r = this.buf[this.head]!;
    this.buf[this.head] = undefined;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    return r;
  }

  /**
   * Sets the listener called when a response is queued into an empty queue: the consumer should
   * then `take()` until undefined. It runs inside the store's write or sync, so it must only
   * schedule that work, never call into the store.
   */
  onReady(listener: (() => void) | undefined): void {
    this.readyListener = listener;
  }

  /** @internal Queues `resp` unless the queue is full; see WatcherSink. */
  trySend(resp: WatchResponse): boolean {
    if (this.closed) return true;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      // The iterating consumer waits on an empty queue: hand it over (it resumes asynchronously).
      this.waiter = undefined;
      waiter({ value: resp, done: false });
      return true;
    }
    if (this.count === this.capacity) return false;
    let at = this.head + this.count;
    if (at >= this.capacity) at -= this.capacity;
    this.buf[at] = resp;
    this.count++;
    if (this.count === 1 && !this.taking) this.readyListener?.();
    return true;
  }

  private purge(id: number): void {
    if (this.count === 0) return;
    const kept: WatchResponse[] = [];
    for (let i = 0, at = this.head; i < this.count; i++, at = at + 1 === this.capacity ? 0 : at + 1) {
      const r = this.buf[at]!;
      if (r.watchId !== id) kept.push(r);
    }
    this.buf.fill(undefined);
    for (let i = 0; i < kept.length; i++) this.buf[i] = kept[i];
    this.head = 0;
    this.count = kept.length;
  }

  /** Iterates the responses as they come; ends when the stream is closed. Leaving the loop closes the stream. */
  [Symbol.asyncIterator](): AsyncIterator<WatchResponse, undefined> {
    return {
      next: (): Promise<IteratorResult<WatchResponse, undefined>> => {
        const r = this.take();
        if (r !== undefined) return Promise.resolve({ value: r, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: (): Promise<IteratorResult<WatchResponse, undefined>> => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
