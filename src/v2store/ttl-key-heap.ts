/**
 * The nodes that expire, in a min-heap by expiry time, so the periodic expiry sweep looks only at
 * the top (etcd's ttlKeyHeap). The sift steps are those of Go's container/heap, so nodes with
 * equal expiry times leave in the same order as in etcd.
 */

/** What the heap needs of a node: its expiry and a slot for its position. */
export interface TtlKey {
  /** Expiry, ms since the epoch. */
  readonly expireTime: number;
  /** Position in the heap; -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

/** A min-heap of TtlKeys by expireTime with O(log n) removal of any member. */
export class TtlKeyHeap<T extends TtlKey> {
  private readonly array: T[] = [];

  /** Number of nodes in the heap. */
  get length(): number {
    return this.array.length;
  }

  /** The node that expires first, if any. */
  top(): T | undefined {
    return this.array[0];
  }

  /** Adds a node not yet in the heap. */
  push(n: T): void {
    n.heapIndex = this.array.length;
    this.array.push(n);
    this.up(this.array.length - 1);
  }

  /** Removes and returns the node that expires first. */
  pop(): T | undefined {
    const last = this.array.length - 1;
    if (last < 0) return undefined;
    this.swap(0, last);
    this.down(0, last);
    return this.takeLast();
  }

  /** Removes `n` if it is in the heap. */
  remove(n: T): void {
    const i = n.heapIndex;
    if (i < 0 || this.array[i] !== n) return;
    const last = this.array.length - 1;
    if (last !== i) {
      this.swap(i, last);
      if (!this.down(i, last)) this.up(i);
    }
    this.takeLast();
  }

  /** Re-places `n` after its expireTime changed: removed and pushed again, as etcd does. */
  update(n: T): void {
    if (n.heapIndex < 0 || this.array[n.heapIndex] !== n) return;
    this.remove(n);
    this.push(n);
  }

  /** Empties the heap. */
  clear(): void {
    for (const n of this.array) n.heapIndex = -1;
    this.array.length = 0;
  }

  private takeLast(): T {
    const n = this.array.pop()!;
    n.heapIndex = -1;
    return n;
  }

  private less(i: number, j: number): boolean {
    return this.array[i]!.expireTime < this.array[j]!.expireTime;
  }

  private swap(i: number, j: number): void {
    const a = this.array;
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
    a[i]!.heapIndex = i;
    t.heapIndex = j;
  }

  private up(j: number): void {
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (!this.less(j, parent)) break;
      this.swap(parent, j);
      j = parent;
    }
  }

  /** Sifts down within the first `n` slots; whether the node moved. */
  private down(i0: number, n: number): boolean {
    let i = i0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      let j = left;
      if (left + 1 < n && this.less(left + 1, left)) j = left + 1;
      if (!this.less(j, i)) break;
      this.swap(i, j);
      i = j;
    }
    return i > i0;
  }
}
