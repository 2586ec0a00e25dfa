import { IntervalTree } from './interval-tree.js';
import type { Watcher } from './watcher.js';

/**
 * A set of watchers indexed by what they watch (etcd's watcherGroup): single-key watchers in a
 * map by key, range watchers in an interval tree (one node per distinct range), so finding the
 * watchers of a changed key costs a map lookup plus a stab, not a scan of every watcher.
 */
export class WatcherGroup {
  /** Every watcher in the group, in the order added (the sync takes them in this order). */
  readonly watchers = new Set<Watcher>();
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new IntervalTree<Set<Watcher>>();
  private readonly stabbed: Set<Watcher>[] = [];

  /** Number of watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** Whether `w` is in the group. */
  has(w: Watcher): boolean {
    return this.watchers.has(w);
  }

  /** Adds `w` (no-op when present). */
  add(w: Watcher): void {
    if (this.watchers.has(w)) return;
    this.watchers.add(w);
    if (w.end === null) {
      const set = this.byKey.get(w.key);
      if (set === undefined) this.byKey.set(w.key, new Set([w]));
      else set.add(w);
      return;
    }
    const set = this.ranges.get(w.key, w.end);
    if (set === undefined) this.ranges.set(w.key, w.end, new Set([w]));
    else set.add(w);
  }

  /** Removes `w`; returns whether it was in the group. */
  delete(w: Watcher): boolean {
    if (!this.watchers.delete(w)) return false;
    if (w.end === null) {
      const set = this.byKey.get(w.key)!;
      set.delete(w);
      if (set.size === 0) this.byKey.delete(w.key);
      return true;
    }
    const set = this.ranges.get(w.key, w.end)!;
    set.delete(w);
    if (set.size === 0) this.ranges.delete(w.key, w.end);
    return true;
  }

  /** Whether some watcher watches `key` (a latin1 key string). */
  contains(key: string): boolean {
    return this.byKey.has(key) || (this.ranges.size > 0 && this.ranges.contains(key));
  }

  /**
   * Replaces the contents of `out` with the watchers of `key`: single-key watchers first, then
   * range watchers in range order. Returns the count.
   */
  match(key: string, out: Watcher[]): number {
    out.length = 0;
    const set = this.byKey.get(key);
    if (set !== undefined) for (const w of set) out.push(w);
    if (this.ranges.size > 0) {
      const stabbed = this.stabbed;
      this.ranges.stab(key, stabbed);
      for (let i = 0; i < stabbed.length; i++) for (const w of stabbed[i]!) out.push(w);
      stabbed.length = 0;
    }
    return out.length;
  }
}
