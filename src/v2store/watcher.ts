/**
 * One v2 watch (etcd 3.4 etcdserver/api/v2store watcher.go). The store's watcher hub pushes the
 * events the watch wants; the HTTP layer reads them either by pulling (`next`) or by listening
 * (`listen`, called synchronously for each event, from inside the store's write).
 *
 * A long poll takes one event: the hub closes a non-stream watcher after its first event. A
 * stream watcher stays until removed. A watch answered from the event history holds that one
 * event and is closed from the start, as in etcd.
 */
import type { V2Event } from './event.js';

/** How many undelivered events a pulled watcher may hold; one more closes it (etcd's channel size). */
export const WATCHER_QUEUE_CAPACITY = 100;

/** Receives a watcher's events, in order. Must not throw or call back into the store. */
export type WatchListener = (e: V2Event) => void;

/** What a watcher needs from its hub: to be taken off its list. */
export interface WatcherDetacher {
  detach(w: V2Watcher): void;
}

/** A watch on one key (or the tree below it). */
export class V2Watcher {
  private readonly queue: V2Event[] = [];
  private listener: WatchListener | undefined;
  private isClosed: boolean;
  private droppedEvents = false;

  /**
   * @param recursive also the keys below `key`
   * @param stream stay after the first event
   * @param sinceIndex first index the watcher wants
   * @param startIndex the store's index when the watch was made (the X-Etcd-Index of a watch
   *   response)
   * @param hub the hub holding the watcher; undefined when answered from the history
   */
  constructor(
    readonly key: string,
    readonly recursive: boolean,
    readonly stream: boolean,
    readonly sinceIndex: number,
    readonly startIndex: number,
    private hub: WatcherDetacher | undefined,
  ) {
    this.isClosed = hub === undefined;
  }

  /** Whether the hub will send nothing more (removed, answered, or overflowed). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether events were lost because a pulled queue overflowed (etcd closes the channel then). */
  get overflowed(): boolean {
    return this.droppedEvents;
  }

  /** Events received and not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  /** Takes the oldest event not yet taken, if any. */
  next(): V2Event | undefined {
    return this.queue.shift();
  }

  /**
   * Sends every event to `listener` from now on, starting with those already queued (at once,
   * before `listen` returns). A listening watcher never overflows.
   */
  listen(listener: WatchListener): void {
    this.listener = listener;
    while (this.queue.length > 0 && this.listener === listener) listener(this.queue.shift()!);
  }

  /** Stops the watch; safe to call more than once. Queued events stay readable. */
  remove(): void {
    this.listener = undefined;
    this.close();
  }

  /**
   * Whether the watcher wants `e` (etcd's watcher.notify condition): at its own key, below it
   * when recursive, or for a deleted directory above it; and not older than sinceIndex.
   * @internal
   */
  wants(e: V2Event, originalPath: boolean, deleted: boolean): boolean {
    return (this.recursive || originalPath || deleted) && e.node.modifiedIndex >= this.sinceIndex;
  }

  /** Hands `e` to the listener or the queue; a full queue closes the watcher. @internal */
  deliver(e: V2Event): void {
    if (this.listener !== undefined) {
      this.listener(e);
      return;
    }
    if (this.queue.length >= WATCHER_QUEUE_CAPACITY) {
      // etcd cannot block the store on a slow reader: it drops the watcher instead.
      this.droppedEvents = true;
      this.close();
      return;
    }
    this.queue.push(e);
  }

  /** Marks the watcher closed and off the hub. @internal */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const hub = this.hub;
    this.hub = undefined;
    hub?.detach(this);
  }
}
