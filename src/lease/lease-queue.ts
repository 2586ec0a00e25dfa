/**
 * A priority queue of lease IDs by time (ms), at most one entry per lease: the lessor keeps one for
 * expiries and one for scheduled checkpoints (etcd's LeaseExpiredNotifier and LeaseQueue). It is a
 * binary min-heap with a position index, so registering, moving and removing a lease are
 * O(log n) and the earliest entry is O(1). Ties are broken by ID so the order never depends on
 * insertion history (every member computes the same answer from the same inputs).
 */
/** One queued lease; `index` is its slot in the heap array. */
interface Entry {
  readonly id: bigint;
  time: number;
  index: number;
}

export class LeaseQueue {
  /** invariant: heap[i].index === i, and each entry is <= both children by (time, id). */
  private readonly heap: Entry[] = [];
  /** invariant: byId holds exactly the entries of heap. */
  private readonly byId = new Map<bigint, Entry>();

  /** Number of leases in the queue. */
  get length(): number {
    return this.heap.length;
  }

  /** Whether lease `id` has an entry. */
  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  /** The time of lease `id`'s entry, or undefined. */
  timeOf(id: bigint): number | undefined {
    return this.byId.get(id)?.time;
  }

  /** Adds lease `id` at `time`, or moves its entry there if it has one. */
  registerOrUpdate(id: bigint, time: number): void {
    const e = this.byId.get(id);
    if (e === undefined) {
      const added: Entry = { id, time, index: this.heap.length };
      this.heap.push(added);
      this.byId.set(id, added);
      this.up(added.index);
      return;
    }
    const old = e.time;
    e.time = time;
    if (time < old) this.up(e.index);
    else this.down(e.index);
  }

  /** Removes lease `id`'s entry; returns whether it had one. */
  remove(id: bigint): boolean {
    const e = this.byId.get(id);
    if (e === undefined) return false;
    this.removeAt(e.index);
    return true;
  }

  /** The ID of the earliest entry, or undefined when empty. */
  peekId(): bigint | undefined {
    return this.heap[0]?.id;
  }

  /** The time of the earliest entry, or undefined when empty. */
  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  /** Removes and returns the ID of the earliest entry, or undefined when empty. */
  poll(): bigint | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top.id;
  }

  /** Drops every entry. */
  clear(): void {
    this.heap.length = 0;
    this.byId.clear();
  }

  private removeAt(at: number): void {
    const heap = this.heap;
    this.byId.delete(heap[at]!.id);
    const last = heap.pop()!;
    if (at === heap.length) return;
    heap[at] = last;
    last.index = at;
    this.up(at);
    this.down(last.index);
  }

  private static less(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.id < b.id);
  }

  private up(i: number): void {
    const heap = this.heap;
    const e = heap[i]!;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parent = heap[parentAt]!;
      if (!LeaseQueue.less(e, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = parentAt;
    }
    heap[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i]!;
    while (true) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const childAt = right < n && LeaseQueue.less(heap[right]!, heap[left]!) ? right : left;
      const child = heap[childAt]!;
      if (!LeaseQueue.less(child, e)) break;
      heap[i] = child;
      child.index = i;
      i = childAt;
    }
    heap[i] = e;
    e.index = i;
  }
}
