/** The largest TTL a lease may be granted, in seconds (etcd's `lease.MaxLeaseTTL`). */
export const MAX_LEASE_TTL = 9_000_000_000;

/**
 * Leases the leader revokes per second at most (etcd's `leaseRevokeRate`); it checks every
 * 500 ms, so each `findExpired` call should ask for half of it.
 */
export const LEASE_REVOKE_RATE = 1000;

/** Checkpoints the leader proposes per second at most (etcd's `leaseCheckpointRate`). */
export const LEASE_CHECKPOINT_RATE = 1000;

/** Most checkpoints in one LeaseCheckpointRequest (etcd's `maxLeaseCheckpointBatchSize`). */
export const MAX_LEASE_CHECKPOINT_BATCH_SIZE = 1000;

/** Default time between checkpoints of one long lease (etcd's 5 minutes). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

/**
 * How long after reporting a lease expired the leader reports it again if it is still there
 * (the revoke proposal was lost, e.g. to a leader change); etcd's `defaultExpiredleaseRetryInterval`.
 */
export const DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS = 3000;

/**
 * The shortest TTL a lease is granted, in whole seconds: one and a half election timeouts, so a
 * lease outlives a leader election (etcd computes `(3 * electionTicks) / 2` heartbeats in integer
 * arithmetic, then rounds the seconds up).
 */
export function minLeaseTtlSeconds(electionTicks: number, heartbeatMs: number): number {
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}

/** Options of a Lessor; every field has etcd's default. */
export interface LessorConfig {
  /**
   * Shorter requested TTLs are raised to this, seconds (see `minLeaseTtlSeconds`; default
   * `minLeaseTtlSeconds(10, 100)` = 2, etcd's defaults).
   */
  readonly minLeaseTtl?: number;
  /**
   * Whether the leader checkpoints remaining TTLs (etcd's
   * `--experimental-enable-lease-checkpoint`; default false). Without it a failover restarts
   * every lease's countdown at its full TTL.
   */
  readonly checkpointing?: boolean;
  /** Time between checkpoints of one lease, ms (default 5 minutes). */
  readonly checkpointIntervalMs?: number;
  /** See DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS (default 3 s). */
  readonly expiredLeaseRetryIntervalMs?: number;
  /** Revoke rate promote spreads expiries for (default LEASE_REVOKE_RATE); lower in tests. */
  readonly leaseRevokeRate?: number;
}
