/**
 * Half-open key intervals [start, end) over latin1 key strings, each holding a value, answering
 * "which intervals contain this key" (etcd's adt.IntervalTree as the watcher group uses it).
 *
 * An end of `''` means no upper bound (a from-key watch), as etcd's affine string interval
 * treats the empty string. Keys compare with `<` on latin1 strings, which is byte order.
 *
 * A treap ordered by (start, end), each node augmented with the largest end in its subtree, so
 * a stab visits only subtrees that can hold a match. Priorities come from a fixed xorshift
 * sequence: the shape is deterministic for a given sequence of operations.
 */

interface Node<V> {
  readonly start: string;
  readonly end: string;
  value: V;
  readonly prio: number;
  left: Node<V> | null;
  right: Node<V> | null;
  /** invariant: the largest end in this subtree ('' is the largest). */
  maxEnd: string;
}

/** Orders two interval ends, `''` being infinity. */
function compareEnd(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  return a < b ? -1 : 1;
}

function compareInterval(aStart: string, aEnd: string, bStart: string, bEnd: string): number {
  if (aStart !== bStart) return aStart < bStart ? -1 : 1;
  return compareEnd(aEnd, bEnd);
}

function update<V>(n: Node<V>): void {
  let m = n.end;
  if (n.left !== null && compareEnd(n.left.maxEnd, m) > 0) m = n.left.maxEnd;
  if (n.right !== null && compareEnd(n.right.maxEnd, m) > 0) m = n.right.maxEnd;
  n.maxEnd = m;
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

/** A set of distinct intervals with a value each; see the file comment. */
export class IntervalTree<V> {
  private root: Node<V> | null = null;
  private count = 0;
  private seed = 0x2545f491;

  /** Number of intervals held. */
  get size(): number {
    return this.count;
  }

  private nextPrio(): number {
    // xorshift32: deterministic, cheap, spread enough to keep the treap balanced.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  /** The value of interval [start, end), or undefined. */
  get(start: string, end: string): V | undefined {
    let n = this.root;
    while (n !== null) {
      const c = compareInterval(start, end, n.start, n.end);
      if (c === 0) return n.value;
      n = c < 0 ? n.left : n.right;
    }
    return undefined;
  }

  /** Sets the value of interval [start, end), adding the interval if new. Precondition: start < end or end is ''. */
  set(start: string, end: string, value: V): void {
    this.root = this.insertAt(this.root, start, end, value);
  }

  private insertAt(n: Node<V> | null, start: string, end: string, value: V): Node<V> {
    if (n === null) {
      this.count++;
      return { start, end, value, prio: this.nextPrio(), left: null, right: null, maxEnd: end };
    }
    const c = compareInterval(start, end, n.start, n.end);
    if (c === 0) {
      n.value = value;
      return n;
    }
    if (c < 0) {
      n.left = this.insertAt(n.left, start, end, value);
      if (n.left.prio > n.prio) return rotateRight(n);
    } else {
      n.right = this.insertAt(n.right, start, end, value);
      if (n.right.prio > n.prio) return rotateLeft(n);
    }
    update(n);
    return n;
  }

  /** Removes interval [start, end); returns whether it was held. */
  delete(start: string, end: string): boolean {
    const before = this.count;
    this.root = this.deleteAt(this.root, start, end);
    return this.count < before;
  }

  private deleteAt(n: Node<V> | null, start: string, end: string): Node<V> | null {
    if (n === null) return null;
    const c = compareInterval(start, end, n.start, n.end);
    if (c < 0) n.left = this.deleteAt(n.left, start, end);
    else if (c > 0) n.right = this.deleteAt(n.right, start, end);
    else {
      this.count--;
      return this.merge(n.left, n.right);
    }
    update(n);
    return n;
  }

  /** Joins two treaps whose every key in `a` orders before every key in `b`. */
  private merge(a: Node<V> | null, b: Node<V> | null): Node<V> | null {
    if (a === null) return b;
    if (b === null) return a;
    if (a.prio > b.prio) {
      a.right = this.merge(a.right, b);
      update(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    update(b);
    return b;
  }

  /** Appends to `out` the value of every interval containing `key`, in interval order. */
  stab(key: string, out: V[]): void {
    this.stabAt(this.root, key, out);
  }

  private stabAt(n: Node<V> | null, key: string, out: V[]): void {
    // Every interval below ends at or before key: none contains it.
    if (n === null || (n.maxEnd !== '' && n.maxEnd <= key)) return;
    this.stabAt(n.left, key, out);
    // Intervals to the right start at or after n.start: if that is past key, none contains it.
    if (n.start > key) return;
    if (n.end === '' || n.end > key) out.push(n.value);
    this.stabAt(n.right, key, out);
  }

  /** Whether some interval contains `key`. */
  contains(key: string): boolean {
    return this.containsAt(this.root, key);
  }

  private containsAt(n: Node<V> | null, key: string): boolean {
    if (n === null || (n.maxEnd !== '' && n.maxEnd <= key)) return false;
    if (this.containsAt(n.left, key)) return true;
    if (n.start > key) return false;
    if (n.end === '' || n.end > key) return true;
    return this.containsAt(n.right, key);
  }
}
