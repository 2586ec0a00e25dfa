/** The lessor: leases, their TTLs and attached keys (etcd's lease package). */
export {
  Lessor,
  type LeaseKeyDeleter,
  type LessorErrorCode,
  type GrantOutcome,
  type RevokeOutcome,
  type RenewOutcome,
  type TimeToLiveOutcome,
  type LeaseCheckpointItem,
} from './lessor.js';
export type { LeaseView } from './lease.js';
export {
  MAX_LEASE_TTL,
  LEASE_REVOKE_RATE,
  LEASE_CHECKPOINT_RATE,
  MAX_LEASE_CHECKPOINT_BATCH_SIZE,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS,
  minLeaseTtlSeconds,
  type LessorConfig,
} from './lessor-config.js';
export { LEASE_BUCKET, encodeLease, decodeLease, leaseKey, leaseIdOfKey, type LeaseRecord } from './lease-codec.js';
export { LeaseQueue } from './lease-queue.js';
