/**
 * Applies one decoded request of a committed log entry to the member's state (etcd's applierV3
 * chain plus the v2 requests etcd 3.4 still uses for membership attributes and the cluster
 * version). Synchronous: every write lands in the backend's open batch, which the host loop
 * commits once per apply batch together with the consistent index.
 *
 * While a NOSPACE alarm is raised, puts and txns with puts are refused (etcd's applierV3Capped);
 * while a CORRUPT alarm is raised, every KV request is (applierV3Corrupt).
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../api/gen/etcdserverpb.js';
import { rpcError, type RpcError } from '../api/rpctypes/index.js';
import type { CompactionJob, KvStore } from '../mvcc/index.js';
import type { Logger } from '../pkg/logger.js';
import type { AlarmStore } from './alarm-store.js';
import { applyDeleteRange, applyPut, applyRange, applyTxn, type LeaseLookup } from './kv-apply.js';
import { attributesFromJson } from './member.js';
import type { MembershipStore } from './membership-store.js';
import type { BackendQuota } from './quota.js';

/** The outcome of applying one request, handed to its waiter. */
export interface ApplyResult {
  /** The response (header revision set; the server fills the other header fields). */
  resp?: unknown;
  err?: RpcError;
  /** For a physical compaction: resolves once the compaction's deletes are committed. */
  physc?: Promise<void>;
}

/** etcd 3.4's v2 store path of a member's published attributes. */
const MEMBER_ATTRIBUTES_PATH = /^\/0\/members\/([0-9a-f]+)\/attributes$/;
/** etcd 3.4's v2 store path of the cluster version. */
export const CLUSTER_VERSION_PATH = '/0/version';

/** Dependencies of the applier. */
export interface ApplierDeps {
  readonly kv: KvStore;
  readonly leases: LeaseLookup;
  /** Applies lease grants, revokes and checkpoints (undefined for any other request). */
  readonly lease?: { apply(r: pb.InternalRaftRequest): ApplyResult | undefined };
  readonly alarms: AlarmStore;
  readonly membership: MembershipStore;
  readonly quota: BackendQuota;
  readonly logger: Logger;
  /**
   * The auth layer: while `enabled`, KV writes and lease revokes are checked against the user in
   * their header before they apply; auth requests are applied by it (entry index given for tokens).
   */
  readonly auth?: {
    readonly enabled: boolean;
    checkApply(r: pb.InternalRaftRequest): ApplyResult | undefined;
    apply(r: pb.InternalRaftRequest, index: number): ApplyResult | undefined;
  };
  /** Called with each compaction started, to drive its physical deletes. */
  readonly onCompaction: (job: CompactionJob) => void;
  /** Commits the backend's open batch. */
  readonly commit: () => Promise<void>;
}

/** Applies requests; see the file comment. */
export class Applier {
  constructor(private readonly d: ApplierDeps) {}

  /** Applies an InternalRaftRequest of entry `index` (its v2 part, if any, through applyV2). */
  apply(r: pb.InternalRaftRequest, index = 0): ApplyResult {
    if (r.v2 !== undefined) return this.applyV2(r.v2);
    const auth = this.d.auth;
    // etcd's authApplierV3 wraps every other applier: a refused write has no other effect.
    if (auth !== undefined && auth.enabled) {
      const denied = auth.checkApply(r);
      if (denied !== undefined) return denied;
    }
    const { kv, alarms } = this.d;
    const corrupt = alarms.has(AlarmType.CORRUPT);
    if (r.range !== undefined) return corrupt ? { err: rpcError('corrupt') } : applyRange(kv, r.range);
    if (r.put !== undefined) {
      if (corrupt) return { err: rpcError('corrupt') };
      if (alarms.has(AlarmType.NOSPACE)) return { err: rpcError('no-space') };
      return applyPut(kv, this.d.leases, r.put);
    }
    if (r.deleteRange !== undefined) return corrupt ? { err: rpcError('corrupt') } : { resp: applyDeleteRange(kv, r.deleteRange) };
    if (r.txn !== undefined) {
      if (corrupt) return { err: rpcError('corrupt') };
      if (alarms.has(AlarmType.NOSPACE) && this.d.quota.costTxn(r.txn) > 0) return { err: rpcError('no-space') };
      return applyTxn(kv, this.d.leases, r.txn);
    }
    if (r.compaction !== undefined) return corrupt ? { err: rpcError('corrupt') } : this.applyCompaction(r.compaction);
    if (r.alarm !== undefined) return { resp: this.applyAlarm(r.alarm) };
    if (r.leaseGrant !== undefined && alarms.has(AlarmType.NOSPACE)) return { err: rpcError('no-space') };
    const leaseResult = this.d.lease?.apply(r);
    if (leaseResult !== undefined) return leaseResult;
    const authResult = auth?.apply(r, index);
    if (authResult !== undefined) return authResult;
    // Nothing else is proposed by this member; an unknown request from a newer one is refused.
    return { err: rpcError('not-capable') };
  }

  private applyCompaction(c: pb.CompactionRequest): ApplyResult {
    const kv = this.d.kv;
    const out = kv.compact(c.revision);
    if (!out.ok) return { err: rpcError(out.code) };
    this.d.onCompaction(out.job);
    const resp: pb.CompactionResponse = { header: { clusterId: 0n, memberId: 0n, revision: kv.currentRev, raftTerm: 0 } };
    return { resp, physc: out.job.done.then(() => this.d.commit()) };
  }

  private applyAlarm(a: pb.AlarmRequest): pb.AlarmResponse {
    const { alarms, logger } = this.d;
    const resp: pb.AlarmResponse = { alarms: [] };
    switch (a.action) {
      case AlarmRequest_AlarmAction.GET:
        resp.alarms = alarms.get(a.alarm);
        break;
      case AlarmRequest_AlarmAction.ACTIVATE: {
        const m = alarms.activate(a.memberID, a.alarm);
        if (m === undefined) break;
        resp.alarms.push(m);
        logger.warn('alarm raised', { alarm: AlarmType[a.alarm], 'from': a.memberID.toString(16) });
        break;
      }
      case AlarmRequest_AlarmAction.DEACTIVATE: {
        const m = alarms.deactivate(a.memberID, a.alarm);
        if (m === undefined) break;
        resp.alarms.push(m);
        logger.warn('alarm disarmed', { alarm: AlarmType[a.alarm], 'from': a.memberID.toString(16) });
        break;
      }
    }
    return resp;
  }

  /**
   * The v2 requests a 3.4 member proposes itself: publishing its attributes and setting the
   * cluster version. Others (the v2 API) have no store yet and are acknowledged without effect.
   */
  applyV2(req: pb.Request): ApplyResult {
    if (req.Method === 'PUT' && req.Path !== undefined) {
      const m = MEMBER_ATTRIBUTES_PATH.exec(req.Path);
      if (m !== null) {
        const id = BigInt(`0x${m[1]}`);
        if (!this.d.membership.updateAttributes(id, attributesFromJson(req.Val ?? '{}'))) {
          this.d.logger.warn('ignored attributes of an unknown member', { 'member-id': id.toString(16) });
        }
        return {};
      }
      if (req.Path === CLUSTER_VERSION_PATH && req.Val !== undefined) {
        this.d.membership.setClusterVersion(req.Val);
        return {};
      }
    }
    return {};
  }
}
