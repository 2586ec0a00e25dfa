/** A lease as the lessor's callers see it: read-only, owned and updated by the lessor. */
export interface LeaseView {
  /** The lease ID (int64; never 0). */
  readonly id: bigint;
  /** Granted TTL in seconds, after the minimum TTL raise (etcd's `Lease.TTL()`). */
  readonly ttl: number;
  /** Last checkpointed remaining TTL in seconds; 0 when unset, the full `ttl` then applies. */
  readonly checkpointedTtl: number;
  /**
   * When the lease expires, in Clock milliseconds; `Infinity` while the lessor is not primary
   * (only the leader counts leases down).
   */
  readonly expiry: number;
  /** Number of keys attached. */
  readonly keyCount: number;
  /** The attached keys as latin1 strings of their bytes, in byte order (a new array). */
  keys(): string[];
}

/**
 * A lease inside the lessor. The fields are the lessor's to change; everything else reads them
 * through `LeaseView`.
 */
export class Lease implements LeaseView {
  /** invariant: keys attached to this lease; the lessor's key-to-lease map agrees. */
  readonly keySet = new Set<string>();

  constructor(
    readonly id: bigint,
    /** Granted TTL, seconds. */
    public ttl: number,
    /** Checkpointed remaining TTL, seconds; 0 = unset. */
    public checkpointedTtl: number,
    /** Expiry in Clock ms; Infinity = never (not primary). */
    public expiry: number,
  ) {}

  get keyCount(): number {
    return this.keySet.size;
  }

  keys(): string[] {
    // Latin1 strings compare as their bytes do, so this is etcd's byte order.
    return [...this.keySet].sort();
  }

  /**
   * The TTL a refresh counts from: the checkpointed remaining TTL when set, else the full TTL
   * (etcd's `Lease.RemainingTTL()`).
   */
  refreshTtl(): number {
    return this.checkpointedTtl > 0 ? this.checkpointedTtl : this.ttl;
  }
}
