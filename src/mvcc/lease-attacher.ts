/**
 * What mvcc needs from the lessor (etcd's lease.Lessor, seen from the store): which lease a key
 * is attached to, and attaching and detaching keys as puts and deletes change them. mvcc does not
 * import the lease layer; the server wires a lessor in.
 *
 * Keys are latin1 strings of the key bytes (one character per byte), as etcd's `string(key)`.
 */
export interface LeaseAttacher {
  /** The lease `key` is attached to; 0n when none. */
  getLease(key: string): bigint;
  /** Attaches `key` to `lease` (lease != 0n). */
  attach(lease: bigint, key: string): void;
  /** Detaches `key` from `lease` (lease != 0n). */
  detach(lease: bigint, key: string): void;
}
