import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { keyBytes } from '../backend/key-string.js';
import type { Clock } from '../pkg/clock.js';
import { Lease, type LeaseView } from './lease.js';
import { LEASE_BUCKET, decodeLease, encodeLease, leaseKey } from './lease-codec.js';
import { LeaseQueue } from './lease-queue.js';
import {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS,
  LEASE_REVOKE_RATE,
  MAX_LEASE_CHECKPOINT_BATCH_SIZE,
  MAX_LEASE_TTL,
  minLeaseTtlSeconds,
  type LessorConfig,
} from './lessor-config.js';

/**
 * Deletes the keys of a revoked lease, all in one mvcc write transaction so they share one
 * revision (etcd's RangeDeleter). The server implements it over the mvcc store; the lessor does
 * not import mvcc. Keys come sorted in byte order, so every member deletes in the same order and
 * backend hashes agree. While `deleteKeys` runs the lease still exists, so the store's detach
 * calls find it.
 */
export interface LeaseKeyDeleter {
  deleteKeys(keys: readonly Uint8Array[]): void;
}

/** Why a lessor call did not act. The first three are api/rpctypes catalogue codes as they are. */
export type LessorErrorCode =
  | 'lease-not-found'
  | 'lease-exist'
  | 'lease-ttl-too-large'
  /** This lessor is not the primary (not the raft leader): forward to the leader (etcd's ErrNotPrimary). */
  | 'not-primary'
  /**
   * The lease is past its expiry and its revoke is under way: wait until it is revoked (then
   * 'lease-not-found') or this lessor is demoted (then 'not-primary'), as etcd's Renew blocks.
   */
  | 'lease-expired';

/** Outcome of `grant`. */
export type GrantOutcome =
  | { readonly ok: true; readonly lease: LeaseView }
  | { readonly ok: false; readonly code: 'lease-not-found' | 'lease-exist' | 'lease-ttl-too-large' };

/** Outcome of `revoke`: the keys that were attached (deleted by the LeaseKeyDeleter if set). */
export type RevokeOutcome = { readonly ok: true; readonly keys: Uint8Array[] } | { readonly ok: false; readonly code: 'lease-not-found' };

/** Outcome of `renew`. */
export type RenewOutcome =
  | {
      readonly ok: true;
      /** The granted TTL, seconds: what LeaseKeepAliveResponse.TTL carries. */
      readonly ttl: number;
      /**
       * The lease has a checkpointed remaining TTL that must be cleared through raft: propose a
       * LeaseCheckpoint {ID, remaining_TTL: 0} (etcd does this so a failover after a renew does
       * not cut the lease short).
       */
      readonly clearCheckpoint: boolean;
    }
  | { readonly ok: false; readonly code: 'not-primary' | 'lease-not-found' | 'lease-expired' };

/** Outcome of `timeToLive`, the body of a LeaseTimeToLiveResponse. */
export type TimeToLiveOutcome =
  | {
      readonly ok: true;
      readonly id: bigint;
      /** Remaining seconds, truncated toward zero as etcd's `int64(Remaining().Seconds())`. */
      readonly ttl: number;
      /** Granted TTL, seconds. */
      readonly grantedTtl: number;
      /** Attached keys in byte order; empty unless asked for. */
      readonly keys: Uint8Array[];
    }
  | { readonly ok: false; readonly code: 'lease-not-found' | 'not-primary' };

/** One remaining TTL for the leader to propose in a LeaseCheckpointRequest. */
export interface LeaseCheckpointItem {
  readonly id: bigint;
  /** Seconds left, rounded up. */
  readonly remainingTtl: number;
}

function byExpiryThenId(a: Lease, b: Lease): number {
  if (a.expiry !== b.expiry) return a.expiry < b.expiry ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The lessor (etcd's lease.Lessor): owns the leases, their TTLs and attached keys, and persists
 * them in the backend's `lease` bucket through the open batch, so they commit with the apply batch
 * that changed them.
 *
 * Every member applies grant, revoke, checkpoint, attach and detach from the raft log, so those
 * change replicated state. Only the primary (the raft leader, after `promote`) counts leases
 * down: it renews them, reports expired ones for the server to revoke through raft, and schedules
 * checkpoints. Elsewhere every expiry is `Infinity`.
 *
 * Synchronous and deterministic: time comes from the `Clock`; the server drives it (calls
 * `findExpired` and `checkpointsDue` every 500 ms on the leader). Structurally a `LeaseAttacher`
 * of src/mvcc (getLease, attach, detach on latin1 key strings): open the lessor before the mvcc
 * store, whose restore re-attaches the keys it finds.
 */
export class Lessor {
  private backend: Backend;
  private bucket: Bucket;
  private readonly clock: Clock;
  private readonly minLeaseTtl: number;
  private readonly checkpointing: boolean;
  private readonly checkpointIntervalMs: number;
  private readonly expiredRetryMs: number;
  private readonly revokeRate: number;

  private readonly leaseMap = new Map<bigint, Lease>();
  /** invariant: itemMap.get(k) === id iff leaseMap.get(id).keySet.has(k). */
  private readonly itemMap = new Map<string, bigint>();
  /** Expiries of every lease while primary; empty otherwise. */
  private readonly expiries = new LeaseQueue();
  /** Next checkpoint time of long leases while primary and checkpointing; empty otherwise. */
  private readonly checkpoints = new LeaseQueue();
  private primary = false;
  private deleter: LeaseKeyDeleter | undefined;

  private constructor(backend: Backend, clock: Clock, config: LessorConfig) {
    this.backend = backend;
    this.bucket = backend.bucket(LEASE_BUCKET);
    this.clock = clock;
    this.minLeaseTtl = config.minLeaseTtl ?? minLeaseTtlSeconds(10, 100);
    this.checkpointing = config.checkpointing ?? false;
    this.checkpointIntervalMs = config.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.expiredRetryMs = config.expiredLeaseRetryIntervalMs ?? DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS;
    this.revokeRate = config.leaseRevokeRate ?? LEASE_REVOKE_RATE;
  }

  /**
   * Opens the lessor over `backend`, loading every lease of the `lease` bucket (pending writes
   * included) with its TTL and checkpointed remaining TTL. It starts as a non-primary with no keys
   * attached: the mvcc store attaches them as it restores.
   */
  static open(backend: Backend, clock: Clock, config: LessorConfig = {}): Lessor {
    const le = new Lessor(backend, clock, config);
    le.load();
    return le;
  }

  /** Whether this lessor is the primary (counts leases down). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Number of leases. */
  get size(): number {
    return this.leaseMap.size;
  }

  /** Sets (or with undefined, clears) who deletes the keys of revoked leases. */
  setRangeDeleter(deleter: LeaseKeyDeleter | undefined): void {
    this.deleter = deleter;
  }

  /**
   * Grants lease `id` (chosen by the server; 0 is refused as etcd does) for `ttlSeconds`, raised
   * to the minimum TTL. On the primary its countdown starts now; elsewhere it never expires until
   * a promote. Persisted in the open batch.
   */
  grant(id: bigint, ttlSeconds: number): GrantOutcome {
    if (id === 0n) return { ok: false, code: 'lease-not-found' };
    if (ttlSeconds > MAX_LEASE_TTL) return { ok: false, code: 'lease-ttl-too-large' };
    if (this.leaseMap.has(id)) return { ok: false, code: 'lease-exist' };
    const ttl = Math.max(ttlSeconds, this.minLeaseTtl);
    const l = new Lease(id, ttl, 0, Infinity);
    this.leaseMap.set(id, l);
    this.persist(l);
    if (this.primary) {
      const now = this.clock.now();
      this.refresh(l, now, 0);
      this.scheduleCheckpoint(l, now);
    }
    return { ok: true, lease: l };
  }

  /**
   * Revokes lease `id`: its keys go to the LeaseKeyDeleter (if set) in byte order, then the lease
   * and its record are removed, all in the open batch so the deletes and the revoke commit
   * together. Returns the keys that were attached.
   */
  revoke(id: bigint): RevokeOutcome {
    const l = this.leaseMap.get(id);
    if (l === undefined) return { ok: false, code: 'lease-not-found' };
    const sorted = l.keys();
    const keys = sorted.map(keyBytes);
    if (this.deleter !== undefined && keys.length > 0) this.deleter.deleteKeys(keys);
    // The store's detach calls normally emptied the set; without a deleter, or for keys it did
    // not find alive, forget them here.
    for (const k of l.keySet) if (this.itemMap.get(k) === id) this.itemMap.delete(k);
    l.keySet.clear();
    this.leaseMap.delete(id);
    this.expiries.remove(id);
    this.checkpoints.remove(id);
    this.backend.batchTx.delete(this.bucket, leaseKey(id));
    return { ok: true, keys };
  }

  /**
   * Renews lease `id` on the primary: its expiry becomes now + its full TTL. Not replicated:
   * only the leader's countdown matters.
   */
  renew(id: bigint): RenewOutcome {
    if (!this.primary) return { ok: false, code: 'not-primary' };
    const l = this.leaseMap.get(id);
    if (l === undefined) return { ok: false, code: 'lease-not-found' };
    const now = this.clock.now();
    if (l.expiry - now <= 0) return { ok: false, code: 'lease-expired' };
    const clearCheckpoint = this.checkpointing && l.checkpointedTtl > 0;
    // The full TTL, not the checkpointed one: the renew restarts the countdown, and the
    // checkpoint the server proposes (clearCheckpoint) catches the replicated state up.
    l.expiry = now + l.ttl * 1000;
    this.expiries.registerOrUpdate(id, l.expiry);
    return { ok: true, ttl: l.ttl, clearCheckpoint };
  }

  /**
   * Applies a checkpoint from the raft log: lease `id` has `remainingTtl` seconds left (0 clears
   * it). A later promote counts from it instead of the full TTL. Persisted, so a restart keeps it.
   * Returns false when the lease does not exist (a no-op, as etcd).
   */
  checkpoint(id: bigint, remainingTtl: number): boolean {
    const l = this.leaseMap.get(id);
    if (l === undefined) return false;
    l.checkpointedTtl = remainingTtl;
    this.persist(l);
    if (this.primary) this.scheduleCheckpoint(l, this.clock.now());
    return true;
  }

  /** Lease `id`, or undefined. The view is live and owned by the lessor. */
  lookup(id: bigint): LeaseView | undefined {
    return this.leaseMap.get(id);
  }

  /** Every lease, soonest expiry first, then by ID (all by ID when not primary). */
  leases(): LeaseView[] {
    return [...this.leaseMap.values()].sort(byExpiryThenId);
  }

  /**
   * What LeaseTimeToLive answers for lease `id`: remaining and granted TTL, and with `withKeys`
   * the attached keys. Only the primary knows the remaining time; elsewhere 'not-primary' (the
   * server forwards to the leader).
   */
  timeToLive(id: bigint, withKeys = false): TimeToLiveOutcome {
    const l = this.leaseMap.get(id);
    if (l === undefined) return { ok: false, code: 'lease-not-found' };
    if (l.expiry === Infinity) return { ok: false, code: 'not-primary' };
    const secs = Math.trunc((l.expiry - this.clock.now()) / 1000);
    return { ok: true, id, ttl: secs === 0 ? 0 : secs, grantedTtl: l.ttl, keys: withKeys ? l.keys().map(keyBytes) : [] };
  }

  /**
   * Makes this lessor the primary (the member became raft leader). Every lease's countdown
   * restarts at now + `extendMs` + its checkpointed remaining TTL (full TTL when unset), so no
   * lease expires early for the time the election took; etcd passes the election timeout. With
   * many leases, expiries that would pile up in one second are spread so that at most 3/4 of the
   * revoke rate fall in any second, leaving room for leases expiring on their own.
   */
  promote(extendMs: number): void {
    this.primary = true;
    const now = this.clock.now();
    for (const l of this.leaseMap.values()) {
      l.expiry = now + extendMs + l.refreshTtl() * 1000;
      this.scheduleCheckpoint(l, now);
    }
    if (this.leaseMap.size >= this.revokeRate) this.spreadExpiries(now);
    // Queued once the expiries are final: one insert per lease, instead of moving spread ones.
    this.expiries.clear();
    for (const l of this.leaseMap.values()) this.expiries.registerOrUpdate(l.id, l.expiry);
  }

  private spreadExpiries(now: number): void {
    const leases = [...this.leaseMap.values()].sort(byExpiryThenId);
    const target = Math.floor((3 * this.revokeRate) / 4);
    // A window is one second from the first lease expiring in it; each lease past `target` in a
    // window moves later by its share of a second, which stretches the window.
    let base = leases[0]!.expiry - now;
    let windowEnd = base + 1000;
    let inWindow = 0;
    for (const l of leases) {
      const remaining = l.expiry - now;
      if (remaining > windowEnd) {
        base = remaining;
        windowEnd = base + 1000;
        inWindow = 1;
        continue;
      }
      inWindow++;
      if (inWindow <= target) continue;
      const delay = Math.floor((1000 * inWindow) / target - (remaining - base));
      windowEnd = base + delay;
      l.expiry += delay;
    }
  }

  /**
   * Stops counting down (the member lost leadership): every expiry becomes Infinity and the
   * expiry and checkpoint schedules are dropped.
   */
  demote(): void {
    for (const l of this.leaseMap.values()) l.expiry = Infinity;
    this.expiries.clear();
    this.checkpoints.clear();
    this.primary = false;
  }

  /**
   * On the primary, up to `limit` leases past their expiry, soonest first, for the server to
   * revoke through raft. A reported lease is reported again after the retry interval if it is
   * still there (its revoke was lost). Empty when not primary. etcd asks for LEASE_REVOKE_RATE / 2
   * every 500 ms.
   */
  findExpired(limit: number): bigint[] {
    const out: bigint[] = [];
    if (!this.primary || limit <= 0) return out;
    const now = this.clock.now();
    const q = this.expiries;
    while (out.length < limit) {
      const id = q.peekId();
      if (id === undefined || q.peekTime()! > now) break;
      const l = this.leaseMap.get(id);
      if (l === undefined) {
        q.remove(id);
        continue;
      }
      q.registerOrUpdate(id, now + this.expiredRetryMs);
      if (l.expiry - now <= 0) out.push(id);
    }
    return out;
  }

  /**
   * On a checkpointing primary, up to `limit` due checkpoints: leases whose scheduled time has
   * come, still alive and below their full TTL, with the seconds they have left (rounded up). The
   * server proposes them as one LeaseCheckpointRequest; applying it (`checkpoint`) schedules the
   * next one.
   */
  checkpointsDue(limit: number = MAX_LEASE_CHECKPOINT_BATCH_SIZE): LeaseCheckpointItem[] {
    const out: LeaseCheckpointItem[] = [];
    if (!this.primary || !this.checkpointing) return out;
    const now = this.clock.now();
    const q = this.checkpoints;
    while (out.length < limit) {
      const id = q.peekId();
      if (id === undefined || q.peekTime()! > now) break;
      q.poll();
      const l = this.leaseMap.get(id);
      if (l === undefined || l.expiry <= now) continue;
      const remainingTtl = Math.ceil((l.expiry - now) / 1000);
      if (remainingTtl >= l.ttl) continue;
      out.push({ id, remainingTtl });
    }
    return out;
  }

  /** The lease `key` (latin1 string of its bytes) is attached to; 0n when none. */
  getLease(key: string): bigint {
    return this.itemMap.get(key) ?? 0n;
  }

  /**
   * Attaches `key` to lease `id`, moving it off any other lease. Returns false, changing nothing,
   * when the lease does not exist.
   */
  attach(id: bigint, key: string): boolean {
    const l = this.leaseMap.get(id);
    if (l === undefined) return false;
    const prev = this.itemMap.get(key);
    if (prev !== undefined && prev !== id) this.leaseMap.get(prev)?.keySet.delete(key);
    l.keySet.add(key);
    this.itemMap.set(key, id);
    return true;
  }

  /** Detaches `key` from lease `id`. Returns false when the lease does not exist. */
  detach(id: bigint, key: string): boolean {
    const l = this.leaseMap.get(id);
    if (l === undefined) return false;
    l.keySet.delete(key);
    if (this.itemMap.get(key) === id) this.itemMap.delete(key);
    return true;
  }

  /**
   * Reloads every lease from `backend` (after a snapshot replaced it), dropping all attachments;
   * the mvcc store's restore attaches the keys again. A primary counts the reloaded leases down
   * from now, without extension.
   */
  recover(backend: Backend): void {
    this.backend = backend;
    this.bucket = backend.bucket(LEASE_BUCKET);
    this.leaseMap.clear();
    this.itemMap.clear();
    this.expiries.clear();
    this.checkpoints.clear();
    this.load();
    if (this.primary) this.promote(0);
  }

  private load(): void {
    // The whole bucket, negative IDs included (etcd 3.4 scans only [0, MaxInt64)).
    this.backend.scan(this.bucket, new Uint8Array(0), undefined, (_k, v) => {
      const r = decodeLease(v);
      // A lease granted under a smaller minimum (other election settings) gets today's.
      const ttl = Math.max(r.ttl, this.minLeaseTtl);
      this.leaseMap.set(r.id, new Lease(r.id, ttl, r.remainingTtl, Infinity));
    });
  }

  private refresh(l: Lease, now: number, extendMs: number): void {
    l.expiry = now + extendMs + l.refreshTtl() * 1000;
    this.expiries.registerOrUpdate(l.id, l.expiry);
  }

  private scheduleCheckpoint(l: Lease, now: number): void {
    if (!this.checkpointing) return;
    // Only leases that outlive an interval gain from a checkpoint (etcd compares whole seconds).
    if (l.refreshTtl() > Math.trunc(this.checkpointIntervalMs / 1000)) {
      this.checkpoints.registerOrUpdate(l.id, now + this.checkpointIntervalMs);
    }
  }

  private persist(l: Lease): void {
    this.backend.batchTx.put(this.bucket, leaseKey(l.id), encodeLease({ id: l.id, ttl: l.ttl, remainingTtl: l.checkpointedTtl }));
  }
}
