/**
 * Unique 64-bit request IDs as etcd's pkg/idutil makes them: the low 16 bits of the member ID,
 * then 40 bits of the start time in milliseconds, then an 8-bit counter; the time and counter
 * together (48 bits) are incremented per ID. IDs from one member never repeat while it runs for
 * less than ~35 years of IDs at 256 per millisecond, and differ between members by prefix.
 */

const SUFFIX_BITS = 48;
const SUFFIX_SPACE = 2 ** SUFFIX_BITS;
const COUNTER_SPACE = 2 ** 8;
const TIME_SPACE = 2 ** 40;

/** Generates request IDs for one member. */
export class IdGenerator {
  private readonly prefix: bigint;
  /** invariant: an integer in [0, 2^48), exactly representable as a double. */
  private suffix: number;

  /** `memberId`: the member's ID; `nowMs`: the current Unix time in milliseconds. */
  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << BigInt(SUFFIX_BITS);
    this.suffix = (Math.floor(nowMs) % TIME_SPACE) * COUNTER_SPACE;
  }

  /** The next ID. */
  next(): bigint {
    this.suffix = (this.suffix + 1) % SUFFIX_SPACE;
    return this.prefix | BigInt(this.suffix);
  }
}
