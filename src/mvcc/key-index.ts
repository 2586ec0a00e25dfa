import type { Revision } from './revision.js';
import type { RevisionSet } from './revision-set.js';

/** What `KeyIndex.get` finds: the version of the key alive at a revision. Reused by callers. */
export class IndexEntry {
  /** Revision of the found version. */
  modMain = 0;
  modSub = 0;
  /** Main revision that created the key's generation. */
  created = 0;
  /** The version number of the found version within its generation. */
  ver = 0;
}

// Layout of one generation inside KeyIndex.g: a header then `count` (main, sub) pairs, oldest
// first. A generation starts with the put that creates the key and ends with its tombstone.
const G_CREATED = 0;
const G_VER = 1;
const G_COUNT = 2;
const G_HEADER = 3;
/** Histories shorter than this grow by exact copies, longer ones by amortized push. */
const EXACT_COPY_LIMIT = 64;
/** `g` of every new index: one empty generation. Shared, so it is replaced, never written. */
const NEW_INDEX: number[] = Object.freeze([0, 0, 0]) as number[];

/**
 * The revisions of one key (etcd's keyIndex): a list of generations, each the puts of one life of
 * the key ending in a tombstone, plus an empty generation after a tombstone. For example
 * put(1.0) put(2.0) tombstone(3.0) put(4.0) tombstone(5.0) gives the generations
 * {1.0, 2.0, 3.0(t)} {4.0, 5.0(t)} {}.
 *
 * To hold a million keys in little memory, all generations live in one flat number array:
 * per generation `created, ver, count`, then `count` (main, sub) pairs. Most keys are put once
 * and never deleted; such a key keeps its one revision in two fields instead (`g` null), which
 * saves ~70 of the ~190 bytes a key costs (an array of five numbers is two objects, ~90 bytes).
 * invariant: g holds at least one generation; only the last may be empty; revisions increase.
 */
export class KeyIndex {
  /**
   * Flat generations, see the class comment; null when the key holds exactly one revision
   * (oneMain, oneSub), created by it: the generations [oneMain, 1, 1, oneMain, oneSub].
   */
  private g: number[] | null = NEW_INDEX;
  /** Offset of the last generation in `g`. */
  private lastGen = 0;
  /** The one revision while `g` is null. */
  private oneMain = 0;
  private oneSub = 0;

  /** `key` is the latin1 string of the key bytes. */
  constructor(readonly key: string) {}

  /** Whether the index holds nothing: one empty generation. */
  isEmpty(): boolean {
    return this.g !== null && this.lastGen === 0 && this.g[G_COUNT] === 0;
  }

  /** The flat generations, built for a key with one revision (reads of rare paths). */
  private flat(): number[] {
    return this.g ?? [this.oneMain, 1, 1, this.oneMain, this.oneSub];
  }

  /** The flat generations, stored in `g` so they can change. */
  private own(): number[] {
    if (this.g === null) this.g = this.flat();
    return this.g;
  }

  /** The last revision put or tombstoned (etcd's `modified`); (0, 0) when empty. */
  modified(): Revision {
    if (this.g === null) return { main: this.oneMain, sub: this.oneSub };
    const g = this.g;
    const s = this.lastNonEmpty(g);
    if (s < 0) return { main: 0, sub: 0 };
    const at = s + G_HEADER + 2 * (g[s + G_COUNT]! - 1);
    return { main: g[at]!, sub: g[at + 1]! };
  }

  private lastNonEmpty(g: number[]): number {
    if (g[this.lastGen + G_COUNT]! > 0) return this.lastGen;
    const starts = KeyIndex.starts(g);
    return starts.length > 1 ? starts[starts.length - 2]! : -1;
  }

  /** Offsets of every generation in `g`, oldest first. */
  private static starts(g: number[]): number[] {
    const out: number[] = [];
    for (let s = 0; s < g.length; s += G_HEADER + 2 * g[s + G_COUNT]!) out.push(s);
    return out;
  }

  /** Adds revision (main, sub) to the current generation. Throws unless it is above `modified`. */
  put(main: number, sub: number): void {
    // The first put of a new key (a revision below 0.1 is refused below, as for any key).
    if (this.g === NEW_INDEX && (main > 0 || sub > 0)) {
      this.g = null;
      this.oneMain = main;
      this.oneSub = sub;
      return;
    }
    const g = this.own();
    const last = this.lastGen;
    const count = g[last + G_COUNT]!;
    if (count > 0) {
      const at = g.length - 2;
      if (main < g[at]! || (main === g[at]! && sub <= g[at + 1]!)) {
        throw new Error(`mvcc: put with revision ${main}.${sub} not above modified ${g[at]}.${g[at + 1]} of key ${JSON.stringify(this.key)}`);
      }
    } else {
      const mod = this.modified();
      if (main < mod.main || (main === mod.main && sub <= mod.sub)) {
        throw new Error(`mvcc: put with revision ${main}.${sub} not above modified ${mod.main}.${mod.sub} of key ${JSON.stringify(this.key)}`);
      }
      g[last + G_CREATED] = main;
    }
    g[last + G_COUNT] = count + 1;
    g[last + G_VER] = g[last + G_VER]! + 1;
    if (g.length < EXACT_COPY_LIMIT) {
      // A copy is exactly sized; push would leave spare capacity (V8 grows by half plus 16),
      // which for a million short histories is most of the index's memory.
      const next = new Array<number>(g.length + 2);
      for (let i = 0; i < g.length; i++) next[i] = g[i]!;
      next[g.length] = main;
      next[g.length + 1] = sub;
      this.g = next;
    } else {
      g.push(main, sub);
    }
  }

  /**
   * Rebuilds a fresh index from a stored version (on restore): one generation created at
   * `created`, holding `modified` as version `ver`.
   */
  restore(created: number, modMain: number, modSub: number, ver: number): void {
    if (!this.isEmpty()) throw new Error(`mvcc: restore into a non-empty key index ${JSON.stringify(this.key)}`);
    this.lastGen = 0;
    if (created === modMain && ver === 1) {
      this.g = null;
      this.oneMain = modMain;
      this.oneSub = modSub;
      return;
    }
    this.g = [created, ver, 1, modMain, modSub];
  }

  /**
   * Ends the current generation with a tombstone at (main, sub) and opens an empty one. Returns
   * false (etcd's ErrRevisionNotFound) when the key is not alive.
   */
  tombstone(main: number, sub: number): boolean {
    if (this.isEmpty()) throw new Error(`mvcc: tombstone on an empty key index ${JSON.stringify(this.key)}`);
    if (this.own()[this.lastGen + G_COUNT] === 0) return false;
    this.put(main, sub);
    const g = this.own();
    this.lastGen = g.length;
    this.g = g.concat(0, 0, 0);
    return true;
  }

  /**
   * Finds the version alive at `atRev` (the greatest revision <= atRev, unless a tombstone ended
   * that generation at or before atRev). Fills `out` and returns true, or returns false.
   */
  get(atRev: number, out: IndexEntry): boolean {
    if (this.g === null) {
      if (this.oneMain > atRev) return false;
      out.modMain = this.oneMain;
      out.modSub = this.oneSub;
      out.created = this.oneMain;
      out.ver = 1;
      return true;
    }
    if (this.isEmpty()) throw new Error(`mvcc: get on an empty key index ${JSON.stringify(this.key)}`);
    const g = this.g;
    const s = this.findGeneration(g, atRev);
    if (s < 0) return false;
    const count = g[s + G_COUNT]!;
    const base = s + G_HEADER;
    // Binary search for the last revision with main <= atRev.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (g[base + 2 * mid]! <= atRev) lo = mid + 1;
      else hi = mid;
    }
    const n = lo - 1;
    if (n < 0) return false;
    out.modMain = g[base + 2 * n]!;
    out.modSub = g[base + 2 * n + 1]!;
    out.created = g[s + G_CREATED]!;
    out.ver = g[s + G_VER]! - (count - n - 1);
    return true;
  }

  /** Offset of the generation alive at `rev`, or -1 when the key did not exist then. */
  private findGeneration(g: number[], rev: number): number {
    if (this.lastGen === 0) return g[G_COUNT]! > 0 && g[G_HEADER]! <= rev ? 0 : -1;
    const starts = KeyIndex.starts(g);
    const last = starts.length - 1;
    for (let i = last; i >= 0; i--) {
      const s = starts[i]!;
      const count = g[s + G_COUNT]!;
      if (count === 0) continue;
      if (i !== last) {
        const tomb = g[s + G_HEADER + 2 * (count - 1)]!;
        if (tomb <= rev) return -1;
      }
      if (g[s + G_HEADER]! <= rev) return s;
    }
    return -1;
  }

  /**
   * The revisions at or after main revision `rev`, oldest first; of several revisions sharing a
   * main revision only the one with the largest sub is returned (a transaction's last write).
   */
  since(rev: number): Revision[] {
    if (this.isEmpty()) throw new Error(`mvcc: since on an empty key index ${JSON.stringify(this.key)}`);
    const g = this.flat();
    const starts = KeyIndex.starts(g);
    let gi = starts.length - 1;
    for (; gi > 0; gi--) {
      const s = starts[gi]!;
      if (g[s + G_COUNT] === 0) continue;
      if (rev > g[s + G_CREATED]!) break;
    }
    const revs: Revision[] = [];
    let last = 0;
    for (; gi < starts.length; gi++) {
      const s = starts[gi]!;
      const count = g[s + G_COUNT]!;
      for (let i = 0; i < count; i++) {
        const main = g[s + G_HEADER + 2 * i]!;
        const sub = g[s + G_HEADER + 2 * i + 1]!;
        if (main < rev) continue;
        if (main === last) {
          revs[revs.length - 1] = { main, sub };
          continue;
        }
        revs.push({ main, sub });
        last = main;
      }
    }
    return revs;
  }

  /**
   * etcd's doCompact: the first generation whose tombstone is above atRev (or the last), and in
   * it the position of the greatest revision <= atRev, which is added to `available` (-1: none).
   */
  private findCompactPoint(g: number[], atRev: number, available: RevisionSet): { gen: number; revIndex: number; starts: number[] } {
    const starts = KeyIndex.starts(g);
    let gi = 0;
    for (; gi < starts.length - 1; gi++) {
      const s = starts[gi]!;
      const tomb = g[s + G_HEADER + 2 * (g[s + G_COUNT]! - 1)]!;
      if (tomb > atRev) break;
    }
    const s = starts[gi]!;
    let revIndex = -1;
    for (let i = g[s + G_COUNT]! - 1; i >= 0; i--) {
      const main = g[s + G_HEADER + 2 * i]!;
      if (main <= atRev) {
        available.add(main, g[s + G_HEADER + 2 * i + 1]!);
        revIndex = i;
        break;
      }
    }
    return { gen: gi, revIndex, starts };
  }

  /**
   * Drops the revisions <= atRev except the greatest one, which is kept unless it is a tombstone;
   * generations left empty are dropped (etcd's keyIndex.compact). Revisions that stay are added
   * to `available`. Afterwards the caller removes the key when `isEmpty()`.
   */
  compact(atRev: number, available: RevisionSet): void {
    if (this.isEmpty()) throw new Error(`mvcc: compact on an empty key index ${JSON.stringify(this.key)}`);
    const g = this.flat();
    const { gen, revIndex, starts } = this.findCompactPoint(g, atRev, available);
    let genIdx = gen;
    let trimFrom = 0;
    const s = starts[genIdx]!;
    const count = g[s + G_COUNT]!;
    if (count > 0) {
      if (revIndex !== -1) trimFrom = revIndex;
      if (count - trimFrom === 1 && genIdx !== starts.length - 1) {
        // Only the tombstone is left of this generation: it goes too.
        available.delete(g[s + G_HEADER + 2 * trimFrom]!, g[s + G_HEADER + 2 * trimFrom + 1]!);
        genIdx++;
        trimFrom = 0;
      }
    }
    if (genIdx === 0 && trimFrom === 0) return;
    const from = starts[genIdx]!;
    const out = g.slice(from);
    if (trimFrom > 0) {
      out.splice(G_HEADER, 2 * trimFrom);
      out[G_COUNT] = out[G_COUNT]! - trimFrom;
    }
    this.g = out;
    // The trimmed generation is now first; the last one moves down by what went before it.
    this.lastGen = this.lastGen === from ? 0 : this.lastGen - from - 2 * trimFrom;
  }

  /**
   * Adds to `available` the revision a compaction at atRev would keep for this key, if any
   * (etcd's keyIndex.keep); changes nothing.
   */
  keep(atRev: number, available: RevisionSet): void {
    if (this.isEmpty()) return;
    const g = this.flat();
    const { gen, revIndex, starts } = this.findCompactPoint(g, atRev, available);
    const s = starts[gen]!;
    const count = g[s + G_COUNT]!;
    if (count > 0 && revIndex === count - 1 && gen !== starts.length - 1) {
      available.delete(g[s + G_HEADER + 2 * revIndex]!, g[s + G_HEADER + 2 * revIndex + 1]!);
    }
  }

  /** The generations, oldest first, for tests and debugging. */
  generations(): { created: number; ver: number; revs: Revision[] }[] {
    const g = this.flat();
    return KeyIndex.starts(g).map((s) => {
      const revs: Revision[] = [];
      for (let i = 0; i < g[s + G_COUNT]!; i++) revs.push({ main: g[s + G_HEADER + 2 * i]!, sub: g[s + G_HEADER + 2 * i + 1]! });
      return { created: g[s + G_CREATED]!, ver: g[s + G_VER]!, revs };
    });
  }

  /** A one-line description of the generations, as the golden tests print it. */
  toString(): string {
    return this.generations()
      .map((gen) => (gen.revs.length === 0 ? '{}' : `{c=${gen.created} v=${gen.ver} ${gen.revs.map((r) => `${r.main}.${r.sub}`).join(' ')}}`))
      .join(' ');
  }
}
