/**
 * All watchers of a store by watched path, and the event history they can start from
 * (etcd 3.4 etcdserver/api/v2store watcher_hub.go).
 */
import type { V2Event } from './event.js';
import { EventHistory } from './event-history.js';
import { isHiddenFrom } from './node-path.js';
import type { V2Error } from './v2-errors.js';
import { V2Watcher, type WatcherDetacher } from './watcher.js';

/** Outcome of a watch. */
export type WatchOutcome = { readonly ok: true; readonly watcher: V2Watcher } | { readonly ok: false; readonly error: V2Error };

/** The watchers of one store. */
export class WatcherHub implements WatcherDetacher {
  private readonly watchers = new Map<string, Set<V2Watcher>>();
  private watcherCount = 0;
  /** Replaced wholesale on recovery. */
  history: EventHistory;

  /** @param historyCapacity events kept for watches from the past (etcd keeps 1,000) */
  constructor(historyCapacity: number) {
    this.history = new EventHistory(historyCapacity);
  }

  /** Number of watchers waiting in the hub. */
  get count(): number {
    return this.watcherCount;
  }

  /**
   * Watches `key` from `index` on (already clean; index >= 1). When the history holds a matching
   * event the watcher gets a copy of it, stamped with `storeIndex`, and is not registered.
   */
  watch(key: string, recursive: boolean, stream: boolean, index: number, storeIndex: number): WatchOutcome {
    const scanned = this.history.scan(key, recursive, index);
    if (!scanned.ok) return { ok: false, error: { ...scanned.error, index: storeIndex } };
    if (scanned.event !== undefined) {
      const w = new V2Watcher(key, recursive, stream, index, storeIndex, undefined);
      // etcd hands out a clone (which drops the refresh flag) carrying the current index.
      w.deliver({ ...scanned.event, etcdIndex: storeIndex, refresh: false });
      return { ok: true, watcher: w };
    }
    const w = new V2Watcher(key, recursive, stream, index, storeIndex, this);
    let set = this.watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(key, set);
    }
    set.add(w);
    this.watcherCount++;
    return { ok: true, watcher: w };
  }

  /** Records `e` in the history without telling watchers (TTL refreshes). */
  add(e: V2Event): void {
    this.history.add(e);
  }

  /** Records `e` and tells the watchers of its key and of every directory above it. */
  notify(e: V2Event): void {
    this.history.add(e);
    const key = e.node.key;
    this.notifyWatchers(e, '/', false);
    for (let at = key.indexOf('/', 1); ; at = key.indexOf('/', at + 1)) {
      if (at < 0) {
        if (key.length > 1) this.notifyWatchers(e, key, false);
        return;
      }
      this.notifyWatchers(e, key.slice(0, at), false);
    }
  }

  /**
   * Tells the watchers at `nodePath` about `e`. `deleted`: the node at nodePath was removed by
   * `e` (a directory delete reaches watchers below it). Keys below a hidden component are not
   * shown to watchers above it. Non-stream watchers leave after one event.
   */
  notifyWatchers(e: V2Event, nodePath: string, deleted: boolean): void {
    const set = this.watchers.get(nodePath);
    if (set === undefined) return;
    const originalPath = e.node.key === nodePath;
    if (!originalPath && isHiddenFrom(nodePath, e.node.key)) return;
    for (const w of set) {
      if (!w.wants(e, originalPath, deleted)) continue;
      if (!w.stream) w.close();
      w.deliver(e);
    }
  }

  /** Takes a closed watcher off its list. @internal */
  detach(w: V2Watcher): void {
    const set = this.watchers.get(w.key);
    if (set === undefined || !set.delete(w)) return;
    this.watcherCount--;
    if (set.size === 0) this.watchers.delete(w.key);
  }
}
