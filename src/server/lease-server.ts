/**
 * The member's side of leases (etcd's v3_server lease methods, the LeaseGrant/Revoke/Checkpoint
 * appliers and the leader's revoke loop), around the deterministic Lessor:
 *
 * - grant, revoke and checkpoint go through raft and are applied on every member; a revoke
 *   deletes the lease's keys in one mvcc write transaction, so they share one revision and the
 *   watchers see their deletes;
 * - only the leader counts leases down: it is promoted when it applies its own term's first
 *   (empty) entry, so every earlier revoke is applied first, and demoted when it stops leading;
 * - every 500 ms the leader proposes a revoke for each expired lease (at most half the revoke
 *   rate per round, etcd's rate limit), once a ReadIndex round confirmed it still leads, and the
 *   checkpoints that are due (with --experimental-enable-lease-checkpoint);
 * - the leader renews and answers time-to-live only from a state that applied everything it
 *   committed (etcd's linearizable renew), and a renewal whose client went away stops;
 * - keep-alives and time-to-live need the leader's countdown: a follower forwards them through a
 *   {@link LeaderForwarder} (the peer port's `/leases` paths), retrying across leader changes.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { rpcError } from '../api/rpctypes/index.js';
import type { LeaseKeyDeleter, Lessor } from '../lease/index.js';
import { LEASE_CHECKPOINT_RATE, LEASE_REVOKE_RATE } from '../lease/index.js';
import type { KvStore } from '../mvcc/index.js';
import type { Logger } from '../pkg/logger.js';
import type { ApplyResult } from './applier.js';
import type { CallGone, LeaderForwarder, LeaseApi } from './lease-api.js';
import type { LeaseLookup } from './kv-apply.js';

/** How often the leader looks for expired leases and due checkpoints (etcd: 500 ms). */
export const LEASE_LOOP_INTERVAL_MS = 500;
/** How often a renew of a lease past its expiry looks again whether its revoke applied. */
const EXPIRED_RENEW_POLL_MS = 50;
/** How long a leader waits for its applied index to reach its commit index (etcd's applyTimeout). */
const APPLY_TIMEOUT_MS = 1000;
/** Lease IDs are positive int64s (etcd masks the request ID generator's value). */
const LEASE_ID_MASK = (1n << 63n) - 1n;

/** What the lease side needs from its member. */
export interface LeaseServerDeps {
  readonly lessor: Lessor;
  readonly kv: KvStore;
  readonly logger: Logger;
  /** Proposes a request through raft and waits for it to apply. */
  readonly propose: (r: pb.InternalRaftRequest) => Promise<ApplyResult>;
  /** The member's request ID generator (lease IDs come from it, as in etcd). */
  readonly nextId: () => bigint;
  /** Fills a response header's cluster, member, term and (when 0) revision. */
  readonly fill: (h: pb.ResponseHeader | undefined) => pb.ResponseHeader;
  /** Resolves when the member serves requests (or rejects as its other requests do). */
  readonly whenReady: () => Promise<void>;
  /** This member's ID and the current leader's (0n: none known). */
  readonly memberId: bigint;
  readonly leader: () => bigint;
  /** Whether the member is the raft leader now. */
  readonly isLeader: () => boolean;
  /** Whether the member stopped. */
  readonly stopped: () => boolean;
  /** How long a request may wait, ms. */
  readonly requestTimeoutMs: number;
  /**
   * The member's raft commit and applied indexes: the leader waits for applied >= committed
   * before it renews or answers a time-to-live. Default: no wait.
   */
  readonly committedIndex?: () => number;
  readonly appliedIndex?: () => number;
  /**
   * Resolves once a quorum confirmed this member's leadership (a ReadIndex round); rejects when
   * it cannot. Default: no check.
   */
  readonly confirmLeadership?: () => Promise<void>;
}

/** A renewal or time-to-live on the leader waiting for the applied index. */
interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

function emptyHeader(): pb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
}

/** See the file comment. Create one per member; `stop()` ends its loop. */
export class LeaseServer implements LeaseApi, LeaseLookup {
  private forwarder: LeaderForwarder | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Revokes proposed by the loop and not yet answered (a lease is not proposed twice at once). */
  private readonly revoking = new Set<bigint>();
  /** Renewals and time-to-live calls waiting for the applied index, in no order. */
  private readonly appliedWaiters: AppliedWaiter[] = [];

  constructor(private readonly d: LeaseServerDeps) {
    const deleter: LeaseKeyDeleter = {
      deleteKeys: (keys) => {
        // One write transaction: every key of the lease goes at the same revision.
        const txn = d.kv.write();
        try {
          for (const k of keys) txn.deleteRange(k, undefined);
        } finally {
          txn.end();
        }
      },
    };
    d.lessor.setRangeDeleter(deleter);
  }

  /** Sets who forwards keep-alives and time-to-live to the leader (the multi-member wiring). */
  setLeaderForwarder(f: LeaderForwarder | undefined): void {
    this.forwarder = f;
  }

  /** Whether lease `id` exists (the applier's check of puts with a lease). */
  has(id: bigint): boolean {
    return this.d.lessor.lookup(id) !== undefined;
  }

  /** Starts the leader's revoke and checkpoint loop. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), LEASE_LOOP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the loop. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- leadership

  /**
   * The member applied its own term's first entry as leader: start counting leases down, each
   * extended by the election timeout so none expires for the time the election took (etcd).
   */
  onLeaderReady(electionTimeoutMs: number): void {
    if (this.d.lessor.isPrimary) return;
    this.d.lessor.promote(electionTimeoutMs);
    this.d.logger.info('lessor promoted', { leases: this.d.lessor.size, 'extend-ms': electionTimeoutMs });
  }

  /** The member is no longer the leader: stop counting down. */
  onNotLeader(): void {
    if (!this.d.lessor.isPrimary) return;
    this.d.lessor.demote();
    this.revoking.clear();
  }

  private tick(): void {
    if (this.d.stopped() || !this.d.lessor.isPrimary || !this.d.isLeader()) return;
    // etcd's rate limit: the loop runs twice a second, each round takes half the rate.
    const expired = this.d.lessor.findExpired(LEASE_REVOKE_RATE / 2).filter((id) => !this.revoking.has(id));
    if (expired.length > 0) void this.revokeExpired(expired);
    // etcd's checkpoint rate limit, split over the two rounds of a second.
    const due = this.d.lessor.checkpointsDue(LEASE_CHECKPOINT_RATE / 2);
    if (due.length > 0) {
      const checkpoints = due.map((c) => ({ ID: c.id, remainingTTL: c.remainingTtl }));
      this.d.propose({ ID: 0n, leaseCheckpoint: { checkpoints } }).catch((err: unknown) => {
        if (!this.d.stopped()) this.d.logger.warn('failed to checkpoint leases', { error: err });
      });
    }
  }

  /**
   * Proposes a revoke for each expired lease, once a quorum confirmed this member still leads: a
   * leader whose loop was stalled (slow disk, CPU) may have lost leadership without knowing, and
   * must not revoke leases the new leader keeps alive (etcd 3.4.30, etcd-io/etcd#15247).
   */
  private async revokeExpired(expired: readonly bigint[]): Promise<void> {
    for (const id of expired) this.revoking.add(id);
    try {
      await this.d.confirmLeadership?.();
    } catch (err) {
      for (const id of expired) this.revoking.delete(id);
      if (!this.d.stopped()) this.d.logger.warn('ignored the lease revoking request: leadership not confirmed', { error: err });
      return;
    }
    if (!this.d.isLeader() || !this.d.lessor.isPrimary) {
      for (const id of expired) this.revoking.delete(id);
      return;
    }
    for (const id of expired) {
      this.d
        .propose({ ID: 0n, leaseRevoke: { ID: id } })
        .catch((err: unknown) => {
          // Lost (leader change, timeout): the lessor reports it again after its retry interval.
          if (!this.d.stopped()) this.d.logger.warn('failed to revoke an expired lease', { 'lease-id': id.toString(16), error: err });
        })
        .finally(() => this.revoking.delete(id));
    }
  }

  // ---- apply (every member, from the raft log)

  /** Applies a lease request of the log; undefined when `r` is not one. */
  apply(r: pb.InternalRaftRequest): ApplyResult | undefined {
    const lessor = this.d.lessor;
    if (r.leaseGrant !== undefined) {
      const out = lessor.grant(r.leaseGrant.ID, r.leaseGrant.TTL);
      if (!out.ok) return { err: rpcError(out.code) };
      const resp: pb.LeaseGrantResponse = { header: this.revHeader(), ID: out.lease.id, TTL: out.lease.ttl, error: '' };
      return { resp };
    }
    if (r.leaseRevoke !== undefined) {
      const out = lessor.revoke(r.leaseRevoke.ID);
      if (!out.ok) return { err: rpcError(out.code) };
      const resp: pb.LeaseRevokeResponse = { header: this.revHeader() };
      return { resp };
    }
    if (r.leaseCheckpoint !== undefined) {
      // A checkpoint of a lease revoked meanwhile is a no-op.
      for (const c of r.leaseCheckpoint.checkpoints) lessor.checkpoint(c.ID, c.remainingTTL);
      const resp: pb.LeaseCheckpointResponse = { header: this.revHeader() };
      return { resp };
    }
    return undefined;
  }

  private revHeader(): pb.ResponseHeader {
    const h = emptyHeader();
    h.revision = this.d.kv.currentRev;
    return h;
  }

  // ---- the Lease service

  async leaseGrant(req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    await this.d.whenReady();
    let id = req.ID;
    // etcd draws the ID from the request ID generator, positive, never 0.
    while (id === 0n) id = this.d.nextId() & LEASE_ID_MASK;
    const res = await this.d.propose({ ID: 0n, leaseGrant: { ID: id, TTL: req.TTL } });
    const resp = res.resp as pb.LeaseGrantResponse;
    resp.header = this.d.fill(resp.header);
    return resp;
  }

  async leaseRevoke(req: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> {
    await this.d.whenReady();
    const res = await this.d.propose({ ID: 0n, leaseRevoke: { ID: req.ID } });
    const resp = res.resp as pb.LeaseRevokeResponse;
    resp.header = this.d.fill(resp.header);
    return resp;
  }

  async leaseKeepAlive(id: bigint, gone?: CallGone): Promise<pb.LeaseKeepAliveResponse> {
    await this.d.whenReady();
    const ttl = await this.renew(id, true, gone);
    return { header: this.d.fill(undefined), ID: id, TTL: ttl };
  }

  /**
   * A keep-alive a follower forwarded (the peer `/leases` path): renews here, never forwards;
   * 'not-leader' when this member does not lead, so the follower asks again.
   */
  renewAsLeader(id: bigint, gone?: CallGone): Promise<number> {
    return this.renew(id, false, gone);
  }

  /** A time-to-live a follower forwarded (the peer `/leases/internal` path); as renewAsLeader. */
  timeToLiveAsLeader(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    return this.timeToLive(req, false);
  }

  /**
   * Renews on the leader, 0 when the lease is gone. A follower forwards (when `forward`) and, as
   * etcd's LeaseRenew does, tries again every 50 ms while the leader is unknown, unreachable or
   * changing, until the request timeout: then `no leader` or `request timed out`.
   */
  private async renew(id: bigint, forward: boolean, gone?: CallGone): Promise<number> {
    const deadline = performance.now() + this.d.requestTimeoutMs;
    // etcd's linearizable renew: a leader answers only once it applied what it committed, so a
    // keep-alive right after a grant it committed does not find "no such lease" (TTL 0).
    if (this.d.isLeader()) await this.waitAppliedIndex();
    for (;;) {
      if (this.d.stopped()) throw rpcError('stopped');
      // The client is gone (etcd renews under the stream's context): a renewal nobody waits for
      // must not extend a lease whose owner stopped.
      if (gone?.aborted === true) throw rpcError('timeout');
      const out = this.d.lessor.renew(id);
      if (out.ok) {
        if (out.clearCheckpoint) {
          // The replicated remaining TTL is stale after a renew: clear it so a failover counts the full TTL.
          this.d.propose({ ID: 0n, leaseCheckpoint: { checkpoints: [{ ID: id, remainingTTL: 0 }] } }).catch(() => undefined);
        }
        return out.ttl;
      }
      if (out.code === 'lease-not-found') return 0;
      if (out.code === 'not-primary') {
        if (!forward && !this.d.isLeader()) throw rpcError('not-leader');
        const leader = this.d.leader();
        if (leader !== 0n && leader !== this.d.memberId) {
          if (this.forwarder === undefined) throw rpcError('not-leader');
          const ttl = await this.forwarder.leaseRenew(leader, id, deadline - performance.now()).catch(() => undefined);
          if (ttl !== undefined) return ttl;
        }
        // This member leads but has not applied its first entry yet, or there is no leader: wait.
      }
      // 'lease-expired': its revoke is on the way; etcd's Renew waits for it too.
      if (performance.now() >= deadline) throw rpcError(this.d.leader() === 0n ? 'no-leader' : 'timeout');
      await new Promise((resolve) => setTimeout(resolve, EXPIRED_RENEW_POLL_MS));
    }
  }

  /**
   * Resolves once the applied index reaches the index committed at the call (etcd's
   * waitAppliedIndex, bounded by its 1 s applyTimeout): then `timeout-wait-applied-index`.
   */
  private waitAppliedIndex(): Promise<void> {
    const { committedIndex, appliedIndex } = this.d;
    if (committedIndex === undefined || appliedIndex === undefined) return Promise.resolve();
    const target = committedIndex();
    if (appliedIndex() >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: AppliedWaiter = {
        index: target,
        resolve,
        timer: setTimeout(() => {
          const i = this.appliedWaiters.indexOf(w);
          if (i >= 0) this.appliedWaiters.splice(i, 1);
          reject(rpcError('timeout-wait-applied-index'));
        }, APPLY_TIMEOUT_MS),
      };
      this.appliedWaiters.push(w);
    });
  }

  /** The member applied everything up to `index`: wakes the renewals and reads waiting for it. */
  onApplied(index: number): void {
    const ws = this.appliedWaiters;
    if (ws.length === 0) return;
    let kept = 0;
    for (const w of ws) {
      if (w.index <= index) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        ws[kept++] = w;
      }
    }
    ws.length = kept;
  }

  async leaseTimeToLive(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    await this.d.whenReady();
    return this.timeToLive(req, true);
  }

  private async timeToLive(req: pb.LeaseTimeToLiveRequest, forward: boolean): Promise<pb.LeaseTimeToLiveResponse> {
    const deadline = performance.now() + this.d.requestTimeoutMs;
    // As renew: the leader answers from a state that includes every grant it committed.
    if (this.d.isLeader()) await this.waitAppliedIndex();
    for (;;) {
      if (this.d.stopped()) throw rpcError('stopped');
      const out = this.d.lessor.timeToLive(req.ID, req.keys);
      if (out.ok) {
        return { header: this.d.fill(undefined), ID: out.id, TTL: out.ttl, grantedTTL: out.grantedTtl, keys: out.keys };
      }
      // etcd answers a missing lease with TTL -1, not an error.
      if (out.code === 'lease-not-found') return { header: this.d.fill(undefined), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
      if (!forward && !this.d.isLeader()) throw rpcError('not-leader');
      const leader = this.d.leader();
      if (leader !== 0n && leader !== this.d.memberId) {
        if (this.forwarder === undefined) throw rpcError('not-leader');
        const resp = await this.forwarder.leaseTimeToLive(leader, req, deadline - performance.now()).catch(() => undefined);
        if (resp !== undefined) {
          resp.header = this.d.fill(undefined);
          return resp;
        }
      }
      if (performance.now() >= deadline) throw rpcError(this.d.leader() === 0n ? 'no-leader' : 'timeout');
      await new Promise((resolve) => setTimeout(resolve, EXPIRED_RENEW_POLL_MS));
    }
  }

  async leaseLeases(_req: pb.LeaseLeasesRequest): Promise<pb.LeaseLeasesResponse> {
    await this.d.whenReady();
    // Served locally on any member, soonest expiry first (etcd's Leases()).
    const leases = this.d.lessor.leases().map((l) => ({ ID: l.id }));
    return { header: this.d.fill(undefined), leases };
  }
}
