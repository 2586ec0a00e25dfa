/**
 * One etcd member (etcd's EtcdServer): opens the member's durable state, runs its host loop, and
 * serves the v3 KV, Maintenance and Cluster APIs on the write path
 *
 *   request → validate → quota → propose through raft → WAL append + fsync (grouped) → apply to
 *   MVCC (one backend batch per Ready, with the consistent index) → reply via the wait registry.
 *
 * Reads are served from the local store: serializable ones at once, linearizable ones after a
 * batched ReadIndex round. Responses carry headers filled as etcd fills them.
 */
import { randomInt } from 'node:crypto';
import { copyFile, stat } from 'node:fs/promises';
import type * as pb from '../api/gen/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType, InternalRaftRequest } from '../api/gen/etcdserverpb.js';
import { ConfChangeType, EntryType, type ConfChange, type Entry, type Snapshot } from '../api/raftpb/types.js';
import { rpcError, type RpcError } from '../api/rpctypes/index.js';
import type { Backend } from '../backend/backend.js';
import { KvStore } from '../mvcc/index.js';
import { IdGenerator } from '../pkg/id-generator.js';
import type { Logger } from '../pkg/logger.js';
import { seededRand } from '../pkg/rand.js';
import { Wait } from '../pkg/wait.js';
import { RawNode, StateType, unmarshalConfChange, unmarshalConfChangeV2, type RaftLogger, type ReadState, type SoftState } from '../raft/index.js';
import type { WalStats } from '../wal/index.js';
import { alarmText, AlarmStore } from './alarm-store.js';
import { Applier, CLUSTER_VERSION_PATH, type ApplyResult } from './applier.js';
import { streamSnapshotFile } from './backend-snapshot.js';
import { openMember, type BootState, type OpenMemberOptions } from './bootstrap.js';
import { newCompactor, type Compactor } from './compactor.js';
import { formatId } from './config/ids.js';
import { effectiveQuotaBackendBytes, electionTicks, SNAPSHOT_CATCH_UP_ENTRIES, type ServerConfig } from './config/server-config.js';
import { parseEtcdUrl } from './config/urls.js';
import { CLUSTER_VERSION, SERVER_VERSION } from './config/version.js';
import { Failpoints, FAILPOINT_ENV } from './failpoints.js';
import { applyRange, applyTxn, isTxnReadonly, isTxnSerializable, noLeases, type LeaseLookup } from './kv-apply.js';
import { attributesToJson, memberFromJson, type Member } from './member.js';
import type { MembershipStore } from './membership-store.js';
import { noPeers, type PeerSender } from './peer-sender.js';
import { ProposalTimeouts } from './proposal-timeouts.js';
import { BackendQuota } from './quota.js';
import { RaftNode } from './raft-node.js';
import { RaftStorage } from './raft-storage.js';
import { ReadIndexBatcher } from './read-index.js';
import type { EtcdServerApi, ServerLimits } from './server-api.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from './validate/index.js';

/** etcd refuses proposals when applying falls this far behind committing (maxGapBetweenApplyAndCommitIndex). */
const MAX_APPLY_LAG = 5000;
/** etcd's raft message size limit (maxSizePerMsg). */
const MAX_SIZE_PER_MSG = 1024 * 1024;
/** etcd's in-flight append limit per follower (maxInflightMsgs). */
const MAX_INFLIGHT_MSGS = 4096 / 8;
/** Backend commits allowed in flight before applying waits for them. */
const MAX_COMMITS_IN_FLIGHT = 4;
/** etcd's default compaction batch (--experimental-compaction-batch-limit). */
const DEFAULT_COMPACTION_BATCH = 1000;
/** etcd's pause between physical compaction batches. */
const COMPACTION_PAUSE_MS = 10;

/** Options beyond the configuration (tests, tools, the transport later). */
export interface EtcdServerOptions extends OpenMemberOptions {
  /** Failpoints; default parsed from ETCDTS_FAILPOINT. */
  readonly failpoints?: Failpoints;
  /** Where raft messages to peers go; default nowhere (a single member). */
  readonly sender?: PeerSender;
  /** The lessor's view of leases; default: none exist. */
  readonly leases?: LeaseLookup;
  /** Unix time in ms (request IDs); default Date.now. */
  readonly now?: () => number;
  /** How long a request may wait (tests); default etcd's: 5 s plus two election timeouts. */
  readonly requestTimeoutMs?: number;
}

/** Outcome of a proposal that did not apply. */
const STOPPED: ApplyResult = { err: rpcError('stopped') };

function header(h: pb.ResponseHeader | undefined): pb.ResponseHeader {
  return h ?? { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
}

function memberToProto(m: Member): pb.Member {
  return { ID: m.id, name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls], isLearner: m.isLearner };
}

/** A running member. Create with EtcdServer.start; stop with stop(). */
export class EtcdServer implements EtcdServerApi {
  readonly limits: ServerLimits;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** The host loop (state, stats). */
  readonly raftNode: RaftNode;
  /** The MVCC store. */
  readonly kv: KvStore;
  readonly backend: Backend;
  readonly membership: MembershipStore;
  readonly alarms: AlarmStore;
  readonly failpoints: Failpoints;
  /** Resolves with the error that stopped the member unexpectedly (it never resolves otherwise). */
  readonly fatal: Promise<Error>;
  /** Request timeout in ms, as etcd's ReqTimeout: 5 s plus two election timeouts. */
  readonly requestTimeoutMs: number;

  private readonly cfg: ServerConfig;
  private readonly logger: Logger;
  private readonly boot: BootState;
  private readonly raftStorage: RaftStorage;
  private readonly wait = new Wait<ApplyResult>();
  private readonly reqIds: IdGenerator;
  private readonly timeouts: ProposalTimeouts;
  private readonly readIndex: ReadIndexBatcher;
  private readonly quota: BackendQuota;
  private readonly applier: Applier;
  private readonly leases: LeaseLookup;
  private readonly compactor: Compactor | undefined;
  /** The raft index the backend's data reflects (etcd's consistent index). */
  private consistentIndex: number;
  /** The last backend commit issued (they complete in order). */
  private lastCommit: Promise<void> = Promise.resolve();
  private commitsInFlight = 0;
  /** Set while an operation needs the backend to itself (defrag, snapshot copy). */
  private backendBusy: Promise<void> | undefined;
  private dbSize = 0;
  private dbSizeRefreshing = false;
  private compactionRunning = false;
  private compactionTimer: NodeJS.Timeout | undefined;
  private versionProposing = false;
  private prevLead = 0n;
  private isReady = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private resolveFatal!: (err: Error) => void;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  private constructor(cfg: ServerConfig, logger: Logger, boot: BootState, options: EtcdServerOptions) {
    this.cfg = cfg;
    this.logger = logger;
    this.boot = boot;
    this.memberId = boot.memberId;
    this.clusterId = boot.clusterId;
    this.backend = boot.backend;
    this.membership = boot.membership;
    this.limits = { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps };
    this.failpoints = options.failpoints ?? Failpoints.parse(process.env[FAILPOINT_ENV]);
    this.leases = options.leases ?? noLeases;
    const ticks = electionTicks(cfg);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000 + 2 * ticks * cfg.heartbeatIntervalMs;
    this.reqIds = new IdGenerator(boot.memberId, (options.now ?? Date.now)());
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.fatal = new Promise((resolve) => {
      this.resolveFatal = resolve;
    });

    this.kv = KvStore.open(this.backend);
    this.alarms = new AlarmStore(this.backend);
    this.consistentIndex = this.backend.consistentIndex();
    this.dbSize = this.backend.size().size;
    this.quota = new BackendQuota(effectiveQuotaBackendBytes(cfg), () => this.dbSize);
    this.applier = new Applier({
      kv: this.kv,
      leases: this.leases,
      alarms: this.alarms,
      membership: this.membership,
      quota: this.quota,
      logger,
      onCompaction: () => this.scheduleCompaction(),
      commit: () => this.commitBackend(),
    });
    this.timeouts = new ProposalTimeouts(this.requestTimeoutMs, (id) => this.expire(id));
    this.readIndex = new ReadIndexBatcher({
      requestReadIndex: (ctx) => this.raftNode.readIndex(ctx),
      appliedIndex: () => this.raftNode.appliedIndex,
      nextId: () => this.reqIds.next(),
      timeoutMs: this.requestTimeoutMs,
      timeoutError: () => rpcError(this.raftNode.lead === 0n ? 'no-leader' : 'timeout'),
    });

    this.raftStorage = new RaftStorage(boot.wal, boot.snapshotter, { maxWals: cfg.maxWals, maxSnapshots: cfg.maxSnapshots });
    const applied = boot.snapshot?.metadata.index ?? 0;
    const node = new RawNode({
      id: boot.memberId,
      electionTick: ticks,
      heartbeatTick: 1,
      storage: boot.storage,
      applied,
      maxSizePerMsg: MAX_SIZE_PER_MSG,
      maxInflightMsgs: MAX_INFLIGHT_MSGS,
      checkQuorum: true,
      preVote: true,
      rand: seededRand(randomInt(2 ** 31)),
      logger: raftLogger(logger),
    });
    this.raftNode = new RaftNode({
      id: boot.memberId,
      node,
      storage: boot.storage,
      raftStorage: this.raftStorage,
      sender: options.sender ?? noPeers,
      failpoints: this.failpoints,
      logger,
      tickMs: cfg.heartbeatIntervalMs,
      electionTicks: ticks,
      initialElectionTickAdvance: cfg.initialElectionTickAdvance,
      snapshotCount: cfg.snapshotCount,
      catchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES,
      appliedIndex: applied,
      snapshotIndex: applied,
      confState: boot.confState,
      hooks: {
        onSoftState: (ss) => this.onSoftState(ss),
        onReadStates: (rs) => this.onReadStates(rs),
        applySnapshot: (snap) => this.applySnapshot(snap),
        applyEntries: (ents) => this.applyEntries(ents),
        onApplied: (index) => this.readIndex.onApplied(index),
        persistApplied: () => this.persistApplied(),
        onFatal: (err) => this.onFatal(err),
      },
    });
    this.compactor = newCompactor(
      cfg.autoCompactionMode,
      cfg.autoCompactionRetention,
      {
        rev: () => this.kv.currentRev,
        compact: async (rev) => {
          await this.compact({ revision: rev, physical: false });
        },
      },
      logger,
    );
  }

  /**
   * Opens (or creates) the member's state, starts its host loop and publishes its attributes
   * through raft. Resolves once the member runs; `readyNotify()` says when it serves.
   */
  static async start(cfg: ServerConfig, logger: Logger, options: EtcdServerOptions = {}): Promise<EtcdServer> {
    const boot = await openMember(cfg, logger, options);
    let s: EtcdServer;
    try {
      s = new EtcdServer(cfg, logger, boot, options);
    } catch (err) {
      await boot.backend.close().catch(() => undefined);
      await boot.wal.close().catch(() => undefined);
      throw err;
    }
    s.raftNode.start();
    if (s.kv.pendingCompaction() !== undefined) s.scheduleCompaction();
    void s.publish();
    return s;
  }

  /** Counters of the WAL (writes, fsyncs). */
  get walStats(): WalStats {
    return this.boot.wal.stats;
  }

  /** Read index rounds made so far (each serves every linearizable read waiting when it started). */
  get readIndexRounds(): number {
    return this.readIndex.rounds;
  }

  /** Resolves once the member published itself and serves client requests. */
  readyNotify(): Promise<void> {
    return this.readyPromise;
  }

  /** The decided cluster version (for /version), undefined before it is decided. */
  clusterVersion(): string | undefined {
    return this.membership.clusterVersion;
  }

  /** The current leader's member ID, 0n when none is known. */
  get leader(): bigint {
    return this.raftNode.lead;
  }

  // ---- host loop hooks

  private onSoftState(ss: SoftState): void {
    if (ss.raftState === StateType.StateLeader) this.compactor?.resume();
    else this.compactor?.pause();
    // A read index asked of a leader that is gone will not be answered (etcd: leader changed).
    if (this.prevLead !== 0n && ss.lead !== this.prevLead) this.readIndex.onLeaderChanged(rpcError('leader-changed'));
    if (ss.lead !== this.prevLead && ss.lead !== 0n) {
      this.logger.info(ss.lead === this.memberId ? 'this member became the leader' : 'leader changed', {
        'local-member-id': formatId(this.memberId),
        leader: formatId(ss.lead),
        term: this.raftNode.term,
      });
    }
    this.prevLead = ss.lead;
  }

  private onReadStates(rs: readonly ReadState[]): void {
    this.readIndex.onReadStates(rs);
  }

  private applySnapshot(snap: Snapshot): Promise<void> {
    // A single member never receives one; restoring the backend from a leader's snapshot comes
    // with the transport.
    return Promise.reject(new Error(`received a snapshot at index ${snap.metadata.index}; restoring from a leader's snapshot is not supported yet`));
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    for (;;) {
      if (this.backendBusy !== undefined) await this.backendBusy;
      // Bound the backend commits in flight (each one is a layer every read looks through).
      else if (this.commitsInFlight >= MAX_COMMITS_IN_FLIGHT) await this.lastCommit;
      else break;
    }
    // From here to the commit nothing awaits: the batch holds exactly these entries.
    for (const e of entries) {
      switch (e.type) {
        case EntryType.EntryNormal:
          this.applyEntryNormal(e);
          break;
        case EntryType.EntryConfChange:
          this.applyConfChange(unmarshalConfChange(e.data), e.index);
          break;
        case EntryType.EntryConfChangeV2:
          // etcd 3.4 proposes none; raft itself proposes one to leave a joint config.
          this.raftNode.applyConfChange(unmarshalConfChangeV2(e.data));
          break;
      }
    }
    const last = entries[entries.length - 1]!.index;
    if (last > this.consistentIndex) {
      this.backend.setConsistentIndex(last);
      this.consistentIndex = last;
    }
    this.failpoints.hit('before-commit');
    const committed = this.commitBackend();
    if (this.failpoints.isArmed('after-commit')) {
      await committed;
      this.failpoints.hit('after-commit');
    }
  }

  private applyEntryNormal(e: Entry): void {
    // Entries the backend already reflects were applied before a restart: skip them (idempotence).
    if (e.index <= this.consistentIndex) return;
    if (e.data.length === 0) {
      // A new leader's empty entry: its term's first commit. Settle the cluster version if unset.
      if (this.raftNode.isLeader && this.membership.clusterVersion === undefined) void this.updateClusterVersion();
      return;
    }
    const r = InternalRaftRequest.decode(e.data);
    if (r.v2 !== undefined) {
      this.wait.trigger(r.v2.ID ?? r.ID, this.applier.applyV2(r.v2));
      return;
    }
    const id = r.ID !== 0n ? r.ID : (r.header?.ID ?? 0n);
    // A range nobody waits for has no effect (etcd's noSideEffect).
    if (r.range !== undefined && !this.wait.isRegistered(id)) return;
    this.wait.trigger(id, this.applier.apply(r));
  }

  private applyConfChange(cc: ConfChange, index: number): void {
    if (index <= this.consistentIndex) {
      // Replayed: raft must see it again, the backend's membership has it already.
      this.raftNode.applyConfChange(cc);
      return;
    }
    const err = this.validateConfChange(cc);
    if (err !== undefined) {
      this.wait.trigger(cc.id, { err });
      return;
    }
    this.raftNode.applyConfChange(cc);
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const { member, isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
        if (member.id !== cc.nodeId) throw new Error(`conf change for ${formatId(cc.nodeId)} carries member ${formatId(member.id)}`);
        if (isPromote) this.membership.promote(member.id);
        else this.membership.add(member);
        break;
      }
      case ConfChangeType.ConfChangeRemoveNode:
        this.membership.remove(cc.nodeId);
        break;
      case ConfChangeType.ConfChangeUpdateNode: {
        const { member } = memberFromJson(new TextDecoder().decode(cc.context));
        this.membership.updatePeerUrls(member.id, member.peerUrls);
        break;
      }
    }
    this.wait.trigger(cc.id, { resp: this.membership.members() });
  }

  /** etcd's ValidateConfigurationChange, for the changes that can reach the log today. */
  private validateConfChange(cc: ConfChange): RpcError | undefined {
    if (this.membership.isRemoved(cc.nodeId)) return rpcError('member-not-found');
    const exists = this.membership.member(cc.nodeId) !== undefined;
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const { isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
        if (isPromote) return exists ? undefined : rpcError('member-not-found');
        return exists ? rpcError('member-exist') : undefined;
      }
      default:
        return exists ? undefined : rpcError('member-not-found');
    }
  }

  private persistApplied(): Promise<void> {
    return this.exclusiveBackend(async () => {
      await this.commitBackend();
      await this.backend.flushed();
    });
  }

  /** Commits the backend's open batch; a failed commit stops the member. */
  private commitBackend(): Promise<void> {
    const c = this.backend.commit();
    this.lastCommit = c;
    this.commitsInFlight++;
    c.then(
      () => {
        this.commitsInFlight--;
        this.refreshDbSize();
      },
      (err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))),
    );
    return c;
  }

  /** Re-reads the backend file size for the quota, at most one stat at a time. */
  private refreshDbSize(): void {
    if (this.dbSizeRefreshing || this.stopped) return;
    this.dbSizeRefreshing = true;
    stat(this.boot.layout.backendPath)
      .then(
        (st) => {
          this.dbSize = st.size;
        },
        () => undefined,
      )
      .finally(() => {
        this.dbSizeRefreshing = false;
      });
  }

  private onFatal(err: Error): void {
    if (this.stopped) return;
    this.logger.error('member failed; stopping', { error: err.message, stack: err.stack });
    this.resolveFatal(err);
    void this.stop();
  }

  // ---- background work

  /** Drives the physical deletes of pending compactions, one batch every 10 ms (as etcd). */
  private scheduleCompaction(): void {
    if (this.compactionRunning || this.stopped) return;
    this.compactionRunning = true;
    const step = async (): Promise<void> => {
      this.compactionTimer = undefined;
      if (this.stopped) return;
      while (this.backendBusy !== undefined) await this.backendBusy;
      if (this.stopped) return;
      const more = this.kv.compactionStep(this.cfg.experimentalCompactionBatchLimit > 0 ? this.cfg.experimentalCompactionBatchLimit : DEFAULT_COMPACTION_BATCH);
      void this.commitBackend();
      if (more) this.compactionTimer = setTimeout(() => void step(), COMPACTION_PAUSE_MS);
      else this.compactionRunning = false;
    };
    this.compactionTimer = setTimeout(() => void step(), 0);
  }

  /** Publishes this member's name and client URLs through raft, retrying until it succeeds. */
  private async publish(): Promise<void> {
    const val = attributesToJson({ name: this.cfg.name, clientUrls: this.cfg.advertiseClientUrls.map((u) => u.text) });
    const path = `/0/members/${formatId(this.memberId)}/attributes`;
    while (!this.stopped) {
      try {
        await this.proposeV2({ Method: 'PUT', Path: path, Val: val });
        this.logger.info('published local member to cluster through raft', {
          'local-member-id': formatId(this.memberId),
          'local-member-attributes': val,
          'cluster-id': formatId(this.clusterId),
        });
        this.isReady = true;
        this.resolveReady();
        this.logger.info('ready to serve client requests');
        return;
      } catch (err) {
        if (this.stopped) return;
        this.logger.warn('failed to publish local member to cluster through raft', { 'local-member-id': formatId(this.memberId), error: err });
      }
    }
  }

  private async updateClusterVersion(): Promise<void> {
    if (this.versionProposing) return;
    this.versionProposing = true;
    try {
      this.logger.info('setting up initial cluster version', { 'cluster-version': CLUSTER_VERSION });
      await this.proposeV2({ Method: 'PUT', Path: CLUSTER_VERSION_PATH, Val: CLUSTER_VERSION });
      this.logger.info('cluster version is updated', { 'cluster-version': CLUSTER_VERSION });
    } catch (err) {
      if (!this.stopped) this.logger.warn('failed to update cluster version', { error: err });
    } finally {
      this.versionProposing = false;
    }
  }

  // ---- proposals

  private checkServing(): void {
    if (this.stopped) throw rpcError('stopped');
  }

  /**
   * Proposes `r` through raft and waits for its outcome (etcd's processInternalRaftRequestOnce):
   * refused when applying lags committing by more than 5000 entries, or when the encoded request
   * exceeds --max-request-bytes; times out after the request timeout.
   */
  private async propose(r: pb.InternalRaftRequest): Promise<ApplyResult> {
    this.checkServing();
    const node = this.raftNode;
    if (node.committedIndex > node.appliedIndex + MAX_APPLY_LAG) throw rpcError('too-many-requests');
    const id = this.reqIds.next();
    r.header = { ID: id, username: '', authRevision: 0 };
    const data = InternalRaftRequest.encode(r);
    if (data.length > this.cfg.maxRequestBytes) throw rpcError('request-too-large');
    const result = this.wait.register(id);
    this.timeouts.add(id);
    node.propose(data, id);
    const res = await result;
    if (res.err !== undefined) throw res.err;
    return res;
  }

  /** Proposes a v2 request (member attributes, cluster version) and waits for it to apply. */
  private async proposeV2(req: pb.Request): Promise<void> {
    this.checkServing();
    const id = this.reqIds.next();
    const r: pb.InternalRaftRequest = { ID: id, v2: { ...req, ID: id } };
    const result = this.wait.register(id);
    this.timeouts.add(id);
    this.raftNode.propose(InternalRaftRequest.encode(r), id);
    const res = await result;
    if (res.err !== undefined) throw res.err;
  }

  /** A proposal's deadline passed: fail its waiter (no leader, if it never reached raft for want of one). */
  private expire(id: bigint): void {
    if (!this.wait.isRegistered(id)) return;
    const neverProposed = this.raftNode.cancelQueued(id);
    this.wait.trigger(id, { err: rpcError(neverProposed && this.raftNode.lead === 0n ? 'no-leader' : 'timeout') });
  }

  /**
   * The quota check etcd's gRPC layer makes before a write: when the write would not fit, raise
   * the NOSPACE alarm through raft and refuse it.
   */
  private async checkQuota(cost: number): Promise<void> {
    if (this.quota.available(cost)) return;
    if (!this.alarms.has(AlarmType.NOSPACE)) {
      this.logger.warn('message exceeded backend quota; raising alarm', { 'quota-size-bytes': this.quota.maxBytes, 'db-size-bytes': this.dbSize });
      await this.propose({ ID: 0n, alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: this.memberId, alarm: AlarmType.NOSPACE } }).catch(
        () => undefined,
      );
    }
    throw rpcError('no-space');
  }

  /**
   * Waits until the member serves (it published itself through raft), at most a request timeout:
   * then the answer is that there is no leader (or a timeout when there is one).
   */
  private async whenReady(): Promise<void> {
    if (!this.isReady) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.readyPromise,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.requestTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!this.isReady) {
        this.checkServing();
        throw rpcError(this.raftNode.lead === 0n ? 'no-leader' : 'timeout');
      }
    }
    this.checkServing();
  }

  /** Waits until the local store reflects every write committed before the call. */
  private async linearizableReadNotify(): Promise<void> {
    await this.readIndex.wait();
  }

  private async backendIdle(): Promise<void> {
    while (this.backendBusy !== undefined) await this.backendBusy;
  }

  /** Runs `fn` with the backend to itself: applies, reads and compaction wait for it. */
  private async exclusiveBackend<T>(fn: () => Promise<T>): Promise<T> {
    await this.backendIdle();
    let release!: () => void;
    this.backendBusy = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      return await fn();
    } finally {
      this.backendBusy = undefined;
      release();
    }
  }

  /** Fills the header fields the applier leaves to the server (etcd's header.fill). */
  private fill(h: pb.ResponseHeader | undefined): pb.ResponseHeader {
    const out = header(h);
    out.clusterId = this.clusterId;
    out.memberId = this.memberId;
    out.raftTerm = this.raftNode.term;
    if (out.revision === 0) out.revision = this.kv.currentRev;
    return out;
  }

  // ---- KV

  async range(req: pb.RangeRequest): Promise<pb.RangeResponse> {
    await this.whenReady();
    const invalid = checkRangeRequest(req);
    if (invalid !== undefined) throw invalid;
    if (!req.serializable) await this.linearizableReadNotify();
    if (this.backendBusy !== undefined) await this.backendIdle();
    const r = applyRange(this.kv, req);
    if ('err' in r) throw r.err;
    r.resp.header = this.fill(r.resp.header);
    return r.resp;
  }

  async put(req: pb.PutRequest): Promise<pb.PutResponse> {
    await this.whenReady();
    await this.checkQuota(this.quota.costPut(req));
    const invalid = checkPutRequest(req);
    if (invalid !== undefined) throw invalid;
    const res = await this.propose({ ID: 0n, put: req });
    const resp = res.resp as pb.PutResponse;
    resp.header = this.fill(resp.header);
    return resp;
  }

  async deleteRange(req: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    await this.whenReady();
    const invalid = checkDeleteRequest(req);
    if (invalid !== undefined) throw invalid;
    const res = await this.propose({ ID: 0n, deleteRange: req });
    const resp = res.resp as pb.DeleteRangeResponse;
    resp.header = this.fill(resp.header);
    return resp;
  }

  async txn(req: pb.TxnRequest): Promise<pb.TxnResponse> {
    await this.whenReady();
    const readonly = isTxnReadonly(req);
    if (!readonly) await this.checkQuota(this.quota.costTxn(req));
    const invalid = checkTxnRequest(req, this.cfg.maxTxnOps);
    if (invalid !== undefined) throw invalid;
    if (readonly) {
      // A read-only txn is served locally, after a read index round unless all its ranges are serializable.
      if (!isTxnSerializable(req)) await this.linearizableReadNotify();
      if (this.backendBusy !== undefined) await this.backendIdle();
      const r = applyTxn(this.kv, this.leases, req);
      if ('err' in r) throw r.err;
      r.resp.header = this.fill(r.resp.header);
      return r.resp;
    }
    const res = await this.propose({ ID: 0n, txn: req });
    const resp = res.resp as pb.TxnResponse;
    resp.header = this.fill(resp.header);
    return resp;
  }

  async compact(req: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    await this.whenReady();
    const res = await this.propose({ ID: 0n, compaction: req });
    if (req.physical && res.physc !== undefined) await res.physc;
    const resp = res.resp as pb.CompactionResponse;
    const h = header(resp.header);
    h.revision = this.kv.currentRev;
    resp.header = this.fill(h);
    return resp;
  }

  // ---- Maintenance

  async status(_req: pb.StatusRequest): Promise<pb.StatusResponse> {
    this.checkServing();
    await this.backendIdle();
    const size = this.backend.size();
    const node = this.raftNode;
    const errors: string[] = [];
    if (node.lead === 0n) errors.push(rpcError('no-leader').message);
    for (const a of this.alarms.get(AlarmType.NONE)) errors.push(alarmText(a));
    return {
      header: this.fill(undefined),
      version: SERVER_VERSION,
      dbSize: size.size,
      leader: node.lead,
      raftIndex: node.committedIndex,
      raftTerm: node.term,
      raftAppliedIndex: node.appliedIndex,
      errors,
      dbSizeInUse: size.sizeInUse,
      isLearner: this.membership.member(this.memberId)?.isLearner ?? false,
    };
  }

  async alarm(req: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    await this.whenReady();
    const res = await this.propose({ ID: 0n, alarm: req });
    // etcd answers alarms without a header.
    return res.resp as pb.AlarmResponse;
  }

  async hash(_req: pb.HashRequest): Promise<pb.HashResponse> {
    await this.whenReady();
    await this.backendIdle();
    const h = this.kv.hash();
    return { header: this.fill({ clusterId: 0n, memberId: 0n, revision: h.rev, raftTerm: 0 }), hash: h.hash };
  }

  async hashKV(req: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    await this.whenReady();
    await this.backendIdle();
    const h = this.kv.hashByRev(req.revision);
    if (!h.ok) throw rpcError(h.code);
    return { header: this.fill({ clusterId: 0n, memberId: 0n, revision: h.currentRev, raftTerm: 0 }), hash: h.hash, compactRevision: h.compactRev };
  }

  /** Rewrites the backend file without its free pages; everything else waits meanwhile. */
  async defragment(_req: pb.DefragmentRequest): Promise<pb.DefragmentResponse> {
    this.checkServing();
    const started = performance.now();
    const before = this.backend.size();
    await this.exclusiveBackend(async () => {
      await this.lastCommit;
      await this.backend.defrag();
    });
    const after = this.backend.size();
    this.dbSize = after.size;
    this.logger.info('finished defragmenting', {
      'current-db-size-bytes-diff': after.size - before.size,
      'current-db-size-bytes': after.size,
      took: `${Math.round(performance.now() - started)}ms`,
    });
    // etcd answers a defragment without a header.
    return {};
  }

  /**
   * Streams a consistent copy of the backend: applies pause while the committed file is copied,
   * then the copy is sent.
   */
  async *snapshot(_req: pb.SnapshotRequest): AsyncIterable<pb.SnapshotResponse> {
    await this.whenReady();
    const copy = `${this.boot.layout.backendPath}.snapshot-${this.reqIds.next().toString(16)}`;
    const h = await this.exclusiveBackend(async () => {
      await this.commitBackend();
      await this.backend.flushed();
      await copyFile(this.boot.layout.backendPath, copy);
      return this.fill(undefined);
    });
    yield* streamSnapshotFile(copy, h);
  }

  async moveLeader(req: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    await this.whenReady();
    if (this.raftNode.lead !== this.memberId) throw rpcError('not-leader');
    const target = this.membership.member(req.targetID);
    if (target === undefined || target.isLearner) throw rpcError('bad-leader-transferee');
    const deadline = performance.now() + this.requestTimeoutMs;
    if (this.raftNode.lead !== req.targetID) this.raftNode.transferLeadership(req.targetID);
    while (this.raftNode.lead !== req.targetID) {
      if (performance.now() >= deadline) throw rpcError('timeout');
      await new Promise((resolve) => setTimeout(resolve, this.cfg.heartbeatIntervalMs));
      this.checkServing();
    }
    return {};
  }

  // ---- Cluster

  private memberHeader(): pb.ResponseHeader {
    // etcd's cluster service header has no revision.
    return { clusterId: this.clusterId, memberId: this.memberId, revision: 0, raftTerm: this.raftNode.term };
  }

  async memberList(_req: pb.MemberListRequest): Promise<pb.MemberListResponse> {
    await this.whenReady();
    return { header: this.memberHeader(), members: this.membership.members().map(memberToProto) };
  }

  /** Membership changes arrive with the multi-member work; until then they are refused. */
  async memberAdd(req: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    await this.whenReady();
    for (const u of req.peerURLs) if (!parseEtcdUrl(u).ok) throw rpcError('member-bad-urls');
    const taken = new Set(this.membership.members().flatMap((m) => m.peerUrls));
    if (req.peerURLs.some((u) => taken.has(u))) throw rpcError('peer-url-exist');
    throw rpcError('not-capable');
  }

  async memberRemove(req: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> {
    await this.whenReady();
    if (this.membership.member(req.ID) === undefined) throw rpcError('member-not-found');
    throw rpcError('not-capable');
  }

  async memberUpdate(req: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> {
    await this.whenReady();
    if (this.membership.member(req.ID) === undefined) throw rpcError('member-not-found');
    for (const u of req.peerURLs) if (!parseEtcdUrl(u).ok) throw rpcError('member-bad-urls');
    throw rpcError('not-capable');
  }

  async memberPromote(req: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> {
    await this.whenReady();
    const m = this.membership.member(req.ID);
    if (m === undefined) throw rpcError('member-not-found');
    if (!m.isLearner) throw rpcError('member-not-learner');
    throw rpcError('not-capable');
  }

  // ---- Health

  /** Healthy when no alarm is raised, a leader is known, and a linearizable read round completes within 1 s. */
  async health(): Promise<{ health: boolean; reason: string }> {
    if (this.stopped) return { health: false, reason: 'STOPPED' };
    const alarms = this.alarms.get(AlarmType.NONE);
    if (alarms.length > 0) return { health: false, reason: `ALARM ${alarms.map((a) => AlarmType[a.alarm]).join(',')}` };
    if (this.raftNode.lead === 0n) return { health: false, reason: 'RAFT NO LEADER' };
    if (!this.isReady) return { health: false, reason: 'NOT READY' };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.readIndex.wait(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(rpcError('timeout')), 1000);
        }),
      ]);
    } catch {
      return { health: false, reason: 'RAFT NO READ INDEX' };
    } finally {
      clearTimeout(timer);
    }
    return { health: true, reason: '' };
  }

  // ---- Shutdown

  /**
   * Stops the member: the loop finishes the turn it is in, waiting requests fail with
   * `etcdserver: server stopped`, and the WAL and backend are flushed and closed.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    this.compactor?.stop();
    if (this.compactionTimer !== undefined) clearTimeout(this.compactionTimer);
    this.timeouts.stop();
    await this.raftNode.stop();
    this.wait.triggerAll(STOPPED);
    this.readIndex.stop(rpcError('stopped'));
    await this.backendIdle();
    await this.lastCommit.catch(() => undefined);
    await this.raftStorage.close().catch((err: unknown) => this.logger.warn('closing the WAL failed', { error: err }));
    await this.backend.close().catch((err: unknown) => this.logger.warn('closing the backend failed', { error: err }));
  }
}

/** raft's log lines through the member's logger; debug lines only when debug is on. */
function raftLogger(logger: Logger): RaftLogger {
  return {
    debug: (msg) => logger.debug(msg),
    info: (msg) => logger.info(msg),
    warn: (msg) => logger.warn(msg),
    error: (msg) => logger.error(msg),
    debugEnabled: logger.enabled('debug'),
  };
}
