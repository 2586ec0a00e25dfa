/**
 * The backend space quota (etcd's backendQuota): a write may go through only while the backend
 * file plus the write's estimated cost stays under `--quota-backend-bytes`. Costs are etcd's:
 * a put costs its key and value plus 256 bytes of overhead; a txn costs the larger of its success
 * and failure branches' top-level puts.
 */
import type { PutRequest, TxnRequest } from '../api/gen/etcdserverpb.js';

/** etcd's estimated per-key overhead of the B+tree and revision records, in bytes. */
export const KV_OVERHEAD_BYTES = 256;

/** The estimated backend bytes a put adds. */
export function costPut(r: PutRequest): number {
  return KV_OVERHEAD_BYTES + r.key.length + r.value.length;
}

/** The estimated backend bytes a txn adds (only its top-level puts count, as in etcd). */
export function costTxn(r: TxnRequest): number {
  let success = 0;
  for (const op of r.success) if (op.requestPut !== undefined) success += costPut(op.requestPut);
  let failure = 0;
  for (const op of r.failure) if (op.requestPut !== undefined) failure += costPut(op.requestPut);
  return Math.max(success, failure);
}

/** A space quota over a backend whose current size `dbSize()` reports, in bytes. */
export class BackendQuota {
  /** `maxBytes` undefined: no quota (every write passes and costs nothing). */
  constructor(
    readonly maxBytes: number | undefined,
    private readonly dbSize: () => number,
  ) {}

  /** Whether a write costing `cost` bytes fits. */
  available(cost: number): boolean {
    return this.maxBytes === undefined || this.dbSize() + cost < this.maxBytes;
  }

  /** The cost of a put, 0 without a quota. */
  costPut(r: PutRequest): number {
    return this.maxBytes === undefined ? 0 : costPut(r);
  }

  /** The cost of a txn, 0 without a quota. */
  costTxn(r: TxnRequest): number {
    return this.maxBytes === undefined ? 0 : costTxn(r);
  }
}
