/**
 * The last events (1,000 in etcd) kept so a watcher can start from an index in the recent past
 * and miss nothing between two long polls (etcd 3.4 etcdserver/api/v2store event_history.go).
 */
import { eventIndex, type V2Event } from './event.js';
import { EventQueue } from './event-queue.js';
import { V2ErrorCode, newV2Error, type V2Error } from './v2-errors.js';

/** Outcome of a history scan: the first matching event at or after the index, if any. */
export type ScanOutcome = { readonly ok: true; readonly event: V2Event | undefined } | { readonly ok: false; readonly error: V2Error };

/** The event history of a watcher hub. */
export class EventHistory {
  readonly queue: EventQueue;
  /** Index of the oldest event held (0 while empty). */
  startIndex = 0;
  /** Index of the newest event held (0 while empty). */
  lastIndex = 0;

  constructor(capacity: number) {
    this.queue = new EventQueue(capacity);
  }

  /** Records `e`; the store adds one event per index, so held indexes are contiguous. */
  add(e: V2Event): void {
    this.queue.insert(e);
    this.lastIndex = eventIndex(e);
    this.startIndex = eventIndex(this.queue.events[this.queue.front]!);
  }

  /**
   * The first event at or after `index` that a watcher of `key` sees: a change of the key, of a
   * key below it when `recursive`, or the delete/expiry of a directory above it. Refreshes are
   * skipped. An index older than the history is an error (401); one newer finds nothing.
   */
  scan(key: string, recursive: boolean, index: number): ScanOutcome {
    if (index < this.startIndex) {
      return {
        ok: false,
        error: newV2Error(V2ErrorCode.EventIndexCleared, `the requested history has been cleared [${this.startIndex}/${index}]`, 0),
      };
    }
    if (index > this.lastIndex) return { ok: true, event: undefined };
    const q = this.queue;
    // Keys are clean paths; only the root already ends in '/'.
    const prefix = key.endsWith('/') ? key : key + '/';
    let i = (q.front + (index - this.startIndex)) % q.capacity;
    for (;;) {
      const e = q.events[i]!;
      if (!e.refresh) {
        let ok = e.node.key === key || (recursive && e.node.key.startsWith(prefix));
        // etcd compares plain string prefixes here, so a deleted /foo also matches /foobar.
        if (!ok && (e.action === 'delete' || e.action === 'expire') && e.prevNode !== undefined && e.prevNode.dir) {
          ok = key.startsWith(e.prevNode.key);
        }
        if (ok) return { ok: true, event: e };
      }
      i = (i + 1) % q.capacity;
      if (i === q.back) return { ok: true, event: undefined };
    }
  }

  /** Replaces the contents with a snapshot's (recovery). */
  restore(events: readonly (V2Event | undefined)[], size: number, front: number, back: number, startIndex: number, lastIndex: number): void {
    const q = this.queue;
    if (events.length !== q.capacity) throw new RangeError(`event history: ${events.length} slots, capacity ${q.capacity}`);
    for (let i = 0; i < events.length; i++) q.events[i] = events[i];
    q.size = size;
    q.front = front;
    q.back = back;
    this.startIndex = startIndex;
    this.lastIndex = lastIndex;
  }
}
