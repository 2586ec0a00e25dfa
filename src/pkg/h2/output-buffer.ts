/**
 * The bytes a connection has to send, appended into large slabs and handed to the socket in one
 * write per flush. Frames are small (a unary gRPC answer is three frames of tens of bytes), so one
 * copy into a slab costs less than a Buffer object and a socket write request per frame.
 * A slab region given to the socket is never written again: appends continue after it.
 */
// 16 KiB: an idle connection holds one slab, and one flush of small answers rarely needs more
// (grpc-go holds 32 KiB read and 32 KiB write buffers per connection).
const SLAB_BYTES = 16 * 1024;
const NO_SLAB = Buffer.alloc(0);

/** An append-only byte queue in slabs, emptied by `take`. */
export class OutputBuffer {
  /** Allocated on the first append, not per connection opened. */
  private slab: Buffer = NO_SLAB;
  /** Start of the bytes not yet taken, in `slab`. */
  private start = 0;
  /** invariant: start <= end <= slab.length */
  private end = 0;
  /** Full slabs (or their unsent tails) waiting, in order, before `slab`'s bytes. */
  private readonly full: Buffer[] = [];
  /** invariant: the bytes in `full` plus end - start */
  private waiting = 0;

  /** Bytes waiting to be taken. */
  get length(): number {
    return this.waiting;
  }

  /** Room for `n` more bytes: returns the slab and the offset to write them at (then `commit(n)`). */
  reserve(n: number): Buffer {
    if (this.slab.length - this.end < n) {
      if (this.end > this.start) this.full.push(this.slab.subarray(this.start, this.end));
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, n));
      this.start = 0;
      this.end = 0;
    }
    return this.slab;
  }

  /** Where the next reserved bytes go in the slab `reserve` returned. */
  get offset(): number {
    return this.end;
  }

  /** Marks `n` bytes written at `offset`. */
  commit(n: number): void {
    this.end += n;
    this.waiting += n;
  }

  /** Appends `bytes`. */
  append(bytes: Uint8Array): void {
    const slab = this.reserve(bytes.length);
    slab.set(bytes, this.end);
    this.end += bytes.length;
    this.waiting += bytes.length;
  }

  /** The waiting bytes, as few buffers as they are in (usually one); empties the buffer. */
  take(): Buffer[] {
    const out = this.full.splice(0);
    if (this.end > this.start) out.push(this.slab.subarray(this.start, this.end));
    this.start = this.end;
    this.waiting = 0;
    return out;
  }
}
