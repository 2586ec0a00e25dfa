import { IndexEntry, KeyIndex } from './key-index.js';
import { OrderedKeyList } from './ordered-key-list.js';
import type { Revision } from './revision.js';
import { RevisionSet } from './revision-set.js';

/**
 * The end of a key range over latin1 key strings, as etcd's index takes it: `null` for the single
 * key, `''` for every key from the start on, otherwise the exclusive upper bound.
 */
export type RangeEnd = string | null;

/** Revisions of the keys alive at a revision, flat (main, sub) pairs in key order. */
export interface IndexRevisions {
  /** [main0, sub0, main1, sub1, ...] of at most `limit` keys. */
  readonly revs: number[];
  /** Number of keys alive in the range, regardless of limit. */
  readonly total: number;
}

/**
 * The in-memory index of every key's revisions, ordered by key (etcd's treeIndex). Keys are
 * latin1 strings of the key bytes.
 */
export class TreeIndex {
  private readonly tree = new OrderedKeyList<KeyIndex>();
  private readonly entry = new IndexEntry();

  /** Number of keys indexed (alive or with history). */
  get size(): number {
    return this.tree.size;
  }

  /** The KeyIndex of `key`, or undefined. */
  keyIndex(key: string): KeyIndex | undefined {
    return this.tree.get(key);
  }

  /** The version of `key` alive at `atRev`, filled into `out`; false when none. */
  get(key: string, atRev: number, out: IndexEntry): boolean {
    const ki = this.tree.get(key);
    return ki !== undefined && ki.get(atRev, out);
  }

  /** Records a put of `key` at (main, sub). */
  put(key: string, main: number, sub: number): void {
    let ki = this.tree.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key);
      this.tree.set(ki);
    }
    ki.put(main, sub);
  }

  /** Adds `key`, not indexed yet, with its first put at (main, sub). */
  insert(key: string, main: number, sub: number): void {
    const ki = new KeyIndex(key);
    ki.put(main, sub);
    this.tree.set(ki);
  }

  /** Records a delete of `key` at (main, sub); false when the key is not alive. */
  tombstone(key: string, main: number, sub: number): boolean {
    const ki = this.tree.get(key);
    return ki !== undefined && ki.tombstone(main, sub);
  }

  private visit(key: string, end: RangeEnd, fn: (ki: KeyIndex) => boolean | void): void {
    if (end === null) {
      const ki = this.tree.get(key);
      if (ki !== undefined) fn(ki);
      return;
    }
    this.tree.ascend(key, end === '' ? undefined : end, fn);
  }

  /**
   * The revisions of the keys in range alive at `atRev`, at most `limit` of them (0: no limit;
   * negative: none, only the count), and how many there are in all.
   */
  revisions(key: string, end: RangeEnd, atRev: number, limit = 0): IndexRevisions {
    const revs: number[] = [];
    let total = 0;
    const e = this.entry;
    this.visit(key, end, (ki) => {
      if (!ki.get(atRev, e)) return;
      if (limit === 0 || total < limit) revs.push(e.modMain, e.modSub);
      total++;
    });
    return { revs, total };
  }

  /** The keys in range alive at `atRev` with their revisions, in key order. */
  range(key: string, end: RangeEnd, atRev: number): { keys: string[]; revs: Revision[] } {
    const keys: string[] = [];
    const revs: Revision[] = [];
    const e = this.entry;
    this.visit(key, end, (ki) => {
      if (!ki.get(atRev, e)) return;
      keys.push(ki.key);
      revs.push({ main: e.modMain, sub: e.modSub });
    });
    return { keys, revs };
  }

  /**
   * Every revision at or after `rev` of the keys in range, ordered by revision (for watch
   * catch-up, etcd's RangeSince).
   */
  rangeSince(key: string, end: RangeEnd, rev: number): Revision[] {
    const out: Revision[] = [];
    this.visit(key, end, (ki) => {
      for (const r of ki.since(rev)) out.push(r);
    });
    out.sort((a, b) => (a.main !== b.main ? a.main - b.main : a.sub - b.sub));
    return out;
  }

  /**
   * Compacts every key at `rev` and removes keys left with no history; returns the revisions
   * that stay available at or below `rev` (what physical compaction must keep).
   */
  compact(rev: number): RevisionSet {
    const available = new RevisionSet();
    this.tree.removeWhere((ki) => {
      ki.compact(rev, available);
      return ki.isEmpty();
    });
    return available;
  }

  /** The revisions a compaction at `rev` would keep; changes nothing. */
  keep(rev: number): RevisionSet {
    const available = new RevisionSet();
    this.tree.ascend('', undefined, (ki) => {
      ki.keep(rev, available);
    });
    return available;
  }

  /** Replaces the contents with `sorted`, KeyIndexes sorted by key (for restore). */
  load(sorted: readonly KeyIndex[]): void {
    this.tree.load(sorted);
  }

  /** Visits every KeyIndex in key order, for tests and debugging. */
  forEach(fn: (ki: KeyIndex) => void): void {
    this.tree.ascend('', undefined, (ki) => {
      fn(ki);
    });
  }
}
