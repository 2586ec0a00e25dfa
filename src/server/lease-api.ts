/**
 * What the API edges may ask of a member's leases (etcd's Lease service). Every method rejects
 * with an `RpcError` of src/api/rpctypes; responses carry a filled header.
 */
import type * as pb from '../api/gen/etcdserverpb.js';

/** The Lease service of a member. */
export interface LeaseApi {
  /** Grants a lease through raft; an ID of 0 lets the member choose one. */
  leaseGrant(req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse>;
  /** Revokes a lease through raft, deleting its keys in one revision. */
  leaseRevoke(req: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse>;
  /**
   * One keep-alive: renews lease `id` on the leader and answers its TTL, 0 when the lease does
   * not exist (as etcd's LeaseKeepAlive stream answers). Once `gone.aborted` is set (the client
   * went away) it stops trying, so a late renewal cannot extend the lease of a client that stopped.
   */
  leaseKeepAlive(id: bigint, gone?: CallGone): Promise<pb.LeaseKeepAliveResponse>;
  /** Remaining and granted TTL (and keys if asked); TTL -1 when the lease does not exist. */
  leaseTimeToLive(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse>;
  /** Every lease's ID. */
  leaseLeases(req: pb.LeaseLeasesRequest): Promise<pb.LeaseLeasesResponse>;
}

/**
 * Set once the caller of a renewal went away (its stream or request ended). A plain flag rather
 * than an AbortSignal: one is made per keep-alive stream, and aborting a signal builds an
 * exception object each time.
 */
export interface CallGone {
  readonly aborted: boolean;
}

/**
 * Sends the leader-only lease calls to the leader when this member is not it (etcd forwards them
 * over the peer HTTP API). The multi-member wiring provides it; without one a follower refuses
 * with `etcdserver: not leader` (or `no leader` while none is known).
 */
export interface LeaderForwarder {
  /**
   * Renews lease `id` on member `leader` within `timeoutMs`; resolves with its TTL (0: not found).
   * Rejects when the leader cannot be reached or refuses (no longer leads): the caller retries.
   */
  leaseRenew(leader: bigint, id: bigint, timeoutMs: number): Promise<number>;
  /** LeaseTimeToLive on member `leader` within `timeoutMs` (TTL -1: not found); rejects as leaseRenew. */
  leaseTimeToLive(leader: bigint, req: pb.LeaseTimeToLiveRequest, timeoutMs: number): Promise<pb.LeaseTimeToLiveResponse>;
}
