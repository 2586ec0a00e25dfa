/**
 * A sorted collection of items keyed by a latin1 key string (byte order), for the mvcc key index:
 * a list of sorted chunks of at most MAX_CHUNK items, a B+tree of height two. Lookups are two
 * binary searches over arrays of key strings (the first keys of the chunks, then the keys of one
 * chunk), which touch only the strings compared; an insert or delete moves at most one chunk's
 * entries; a range scan walks chunks in order. With 1,000,000 keys that is ~2,600 chunks, at two
 * pointers per item (item and key) plus a little.
 */

/** What the list holds: anything with an immutable key string. */
export interface Keyed {
  readonly key: string;
}

const MAX_CHUNK = 512;

/** A sorted set of Keyed items, unique by key. */
export class OrderedKeyList<T extends Keyed> {
  /** invariant: every chunk non-empty and sorted; chunk i's keys all below chunk i+1's. */
  private items: T[][] = [];
  /** invariant: keys[i][j] === items[i][j].key. */
  private keys: string[][] = [];
  /** invariant: firsts[i] === keys[i][0]. */
  private firsts: string[] = [];
  private count = 0;
  /**
   * Where the last `get` looked (chunk, position) for `hintKey`; a `set` of the same key right
   * after (a put of a new key) skips the second search. Cleared by every change.
   */
  private hintKey: string | undefined = undefined;
  private hintChunk = 0;
  private hintPos = 0;

  /** Number of items. */
  get size(): number {
    return this.count;
  }

  /** Index of the chunk that holds `key` or would receive it. -1 only when the list is empty. */
  private chunkFor(key: string): number {
    const firsts = this.firsts;
    let lo = 0;
    let hi = firsts.length - 1;
    if (hi < 0) return -1;
    // The last chunk whose first key is <= key (or chunk 0).
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firsts[mid]! <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Position of the first of `keys` that is >= key. */
  private static lowerBound(keys: string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The item with `key`, or undefined. */
  get(key: string): T | undefined {
    const ci = this.chunkFor(key);
    if (ci < 0) return undefined;
    const keys = this.keys[ci]!;
    const i = OrderedKeyList.lowerBound(keys, key);
    this.hintKey = key;
    this.hintChunk = ci;
    this.hintPos = i;
    return i < keys.length && keys[i] === key ? this.items[ci]![i] : undefined;
  }

  /** Adds `item`; replaces an item with the same key. */
  set(item: T): void {
    const key = item.key;
    const hinted = this.hintKey === key;
    this.hintKey = undefined;
    const ci = hinted ? this.hintChunk : this.chunkFor(key);
    if (ci < 0) {
      this.items.push([item]);
      this.keys.push([key]);
      this.firsts.push(key);
      this.count = 1;
      return;
    }
    const items = this.items[ci]!;
    const keys = this.keys[ci]!;
    const i = hinted ? this.hintPos : OrderedKeyList.lowerBound(keys, key);
    if (i < keys.length && keys[i] === key) {
      items[i] = item;
      return;
    }
    if (i === keys.length) {
      items.push(item);
      keys.push(key);
    } else {
      items.splice(i, 0, item);
      keys.splice(i, 0, key);
    }
    if (i === 0) this.firsts[ci] = key;
    this.count++;
    if (keys.length > MAX_CHUNK) {
      const half = MAX_CHUNK >>> 1;
      const upperKeys = keys.splice(half);
      this.items.splice(ci + 1, 0, items.splice(half));
      this.keys.splice(ci + 1, 0, upperKeys);
      this.firsts.splice(ci + 1, 0, upperKeys[0]!);
    }
  }

  /** Removes the item with `key`; returns whether there was one. */
  delete(key: string): boolean {
    this.hintKey = undefined;
    const ci = this.chunkFor(key);
    if (ci < 0) return false;
    const keys = this.keys[ci]!;
    const i = OrderedKeyList.lowerBound(keys, key);
    if (i >= keys.length || keys[i] !== key) return false;
    const items = this.items[ci]!;
    items.splice(i, 1);
    keys.splice(i, 1);
    this.count--;
    if (keys.length === 0) {
      this.items.splice(ci, 1);
      this.keys.splice(ci, 1);
      this.firsts.splice(ci, 1);
      return true;
    }
    if (i === 0) this.firsts[ci] = keys[0]!;
    if (keys.length < MAX_CHUNK >>> 3 && ci + 1 < this.keys.length && this.keys[ci + 1]!.length < MAX_CHUNK >>> 1) {
      // Merge a sparse chunk into its small neighbour so deletes do not leave many tiny chunks.
      this.items[ci] = items.concat(this.items[ci + 1]!);
      this.keys[ci] = keys.concat(this.keys[ci + 1]!);
      this.items.splice(ci + 1, 1);
      this.keys.splice(ci + 1, 1);
      this.firsts.splice(ci + 1, 1);
    }
    return true;
  }

  /**
   * Visits items with key >= start and, when `end` is given, key < end, in ascending key order,
   * until `visit` returns false. The list must not change during the visit.
   */
  ascend(start: string, end: string | undefined, visit: (item: T) => boolean | void): void {
    let ci = this.chunkFor(start);
    if (ci < 0) return;
    let i = OrderedKeyList.lowerBound(this.keys[ci]!, start);
    for (; ci < this.items.length; ci++, i = 0) {
      const items = this.items[ci]!;
      const keys = this.keys[ci]!;
      for (; i < items.length; i++) {
        if (end !== undefined && keys[i]! >= end) return;
        if (visit(items[i]!) === false) return;
      }
    }
  }

  /** Removes every item for which `drop` returns true, in one pass. */
  removeWhere(drop: (item: T) => boolean): void {
    const kept: T[] = [];
    for (const chunk of this.items) for (const item of chunk) if (!drop(item)) kept.push(item);
    this.load(kept);
  }

  /** Replaces the contents with `items`, which must be sorted by key and unique. */
  load(items: readonly T[]): void {
    this.hintKey = undefined;
    const per = (MAX_CHUNK * 3) >>> 2;
    this.items = [];
    this.keys = [];
    for (let i = 0; i < items.length; i += per) {
      const chunk = items.slice(i, i + per);
      this.items.push(chunk);
      this.keys.push(chunk.map((it) => it.key));
    }
    this.firsts = this.keys.map((k) => k[0]!);
    this.count = items.length;
  }
}
