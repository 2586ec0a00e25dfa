/**
 * The window of appends sent to a follower but not yet acknowledged, as a ring buffer of the last
 * index (and byte size) of each MsgApp. The leader stops sending when the window is full: at most
 * `size` messages, and, when `maxBytes` > 0, fewer than `maxBytes` payload bytes in flight.
 * Indexes must be added in increasing order. The buffer grows on demand up to `size` so idle
 * followers cost little memory.
 */
export class Inflights {
  // invariant: 0 <= start < max(1, buffer length); 0 <= count <= size
  private start = 0;
  private n = 0;
  private totalBytes = 0;
  private indexes: number[] = [];
  private sizes: number[] = [];

  constructor(
    /** Maximum number of messages in flight; must be > 0. */
    readonly size: number,
    /** Maximum payload bytes in flight; 0 means no limit. */
    readonly maxBytes = 0,
  ) {
    if (!(size > 0)) throw new Error(`inflights size must be positive, got ${size}`);
  }

  /** A deep copy. */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    c.start = this.start;
    c.n = this.n;
    c.totalBytes = this.totalBytes;
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    return c;
  }

  /**
   * Records a MsgApp whose last entry is `index` and whose entries weigh `bytes`. Throws when the
   * window is full: callers check full() first.
   */
  add(index: number, bytes = 0): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    let next = this.start + this.n;
    if (next >= this.size) next -= this.size;
    if (next >= this.indexes.length) this.grow();
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.n++;
    this.totalBytes += bytes;
  }

  // Doubles the buffer (capped at size). Slots keep their positions, so the ring stays intact:
  // only the part of the ring before the wrap point can be outside the current buffer.
  private grow(): void {
    const len = this.indexes.length;
    const newLen = len === 0 ? 1 : Math.min(len * 2, this.size);
    for (let i = len; i < newLen; i++) {
      this.indexes.push(0);
      this.sizes.push(0);
    }
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    if (this.n === 0 || to < this.indexes[this.start]!) return;
    let idx = this.start;
    let i = 0;
    let freed = 0;
    for (; i < this.n; i++) {
      if (to < this.indexes[idx]!) break;
      freed += this.sizes[idx]!;
      if (++idx >= this.size) idx -= this.size;
    }
    this.n -= i;
    this.totalBytes -= freed;
    this.start = this.n === 0 ? 0 : idx;
  }

  /** Whether no more messages may be sent: the count or the byte budget is exhausted. */
  full(): boolean {
    return this.n === this.size || (this.maxBytes !== 0 && this.totalBytes >= this.maxBytes);
  }

  /** Number of messages in flight. */
  count(): number {
    return this.n;
  }

  /** Payload bytes in flight. */
  bytes(): number {
    return this.totalBytes;
  }

  /** Forgets every message in flight (the follower's state changed). */
  reset(): void {
    this.start = 0;
    this.n = 0;
    this.totalBytes = 0;
  }
}
