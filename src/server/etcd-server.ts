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
import { copyFile, stat, unlink } from 'node:fs/promises';
import type * as pb from '../api/gen/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType, InternalRaftRequest } from '../api/gen/etcdserverpb.js';
import { ConfChangeType, EntryType, type ConfChange, type Entry, type Message, type Snapshot } from '../api/raftpb/types.js';
import { rpcError, type RpcError } from '../api/rpctypes/index.js';
import type { Backend } from '../backend/backend.js';
import { CommitScheduler } from '../backend/commit-scheduler.js';
import { Lessor, minLeaseTtlSeconds } from '../lease/index.js';
import { KvStore } from '../mvcc/index.js';
import { IdGenerator } from '../pkg/id-generator.js';
import type { Logger } from '../pkg/logger.js';
import { seededRand } from '../pkg/rand.js';
import { Wait } from '../pkg/wait.js';
import { systemClock } from '../pkg/clock.js';
import { RawNode, StateType, unmarshalConfChange, unmarshalConfChangeV2, type RaftLogger, type ReadState, type SoftState } from '../raft/index.js';
import type { WalStats } from '../wal/index.js';
import { alarmText, AlarmStore } from './alarm-store.js';
import { Applier, CLUSTER_VERSION_PATH, type ApplyResult } from './applier.js';
import { streamSnapshotFile } from './backend-snapshot.js';
import { openMember, type BootState, type OpenMemberOptions } from './bootstrap.js';
import { newCompactor, type Compactor } from './compactor.js';
import { computeMemberId, formatId } from './config/ids.js';
import { isLearnerInSync, mayAddMember, mayPromoteMember, mayRemoveMember, MAX_LEARNERS } from './cluster-reconfig.js';
import { forwardPromote } from './promote-forward.js';
import { effectiveQuotaBackendBytes, electionTicks, SNAPSHOT_CATCH_UP_ENTRIES, type ServerConfig } from './config/server-config.js';
import { parseEtcdUrl } from './config/urls.js';
import { CLUSTER_VERSION, SERVER_VERSION } from './config/version.js';
import { Failpoints, FAILPOINT_ENV } from './failpoints.js';
import { applyRange, applyTxn, isTxnReadonly, isTxnSerializable, type LeaseLookup } from './kv-apply.js';
import { LeaseServer } from './lease-server.js';
import { WatchServer } from './watch-server.js';
import { attributesToJson, memberFromJson, memberToJson, type Member } from './member.js';
import type { MembershipStore } from './membership-store.js';
import { PeerLink } from './peer-link.js';
import { peerReceiver, type IncomingSnapshot, type PeerReceiver } from './peer-receiver.js';
import type { ClusterTransport, PeerSender } from './peer-sender.js';
import { installReceivedSnapshot, sendBackendSnapshot } from './cluster-snapshot.js';
import { ProposalTimeouts } from './proposal-timeouts.js';
import { BackendQuota } from './quota.js';
import { RaftNode } from './raft-node.js';
import { RaftStorage } from './raft-storage.js';
import { V2Server } from './v2-server.js';
import { statsCountingReceiver, statsCountingSender, V2Stats } from './v2-stats.js';
import { AuthServer } from './auth-server.js';
import type { RequestMetadata } from './auth-api.js';
import type { V2Outcome } from '../v2store/index.js';
import { ReadIndexBatcher } from './read-index.js';
import { pickTransferee, transferLeadership } from './leader-transfer.js';
import { installSnapshot, type BackendState } from './snapshot-install.js';
import type { CallState, EtcdServerApi, ServerLimits } from './server-api.js';
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
  /** Time between checkpoints of one lease with --experimental-enable-lease-checkpoint (tests); default etcd's 5 min. */
  readonly leaseCheckpointIntervalMs?: number;
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
  /** The MVCC store (replaced when a leader's snapshot is installed: read it here each time). */
  get kv(): KvStore {
    return this.state.kv;
  }
  /** The lessor (opened before the store, whose restore re-attaches keys to it). */
  readonly lessor: Lessor;
  /** The Lease service and the leader's revoke loop. */
  readonly lease: LeaseServer;
  /** The Watch service: the watchable store and its sync timer. */
  readonly watch: WatchServer;
  /** The backend (replaced when a leader's snapshot is installed, as the next two). */
  get backend(): Backend {
    return this.state.backend;
  }
  get membership(): MembershipStore {
    return this.state.membership;
  }
  get alarms(): AlarmStore {
    return this.state.alarms;
  }
  readonly failpoints: Failpoints;
  /** The v2 store and its request path (served over HTTP with --enable-v2). */
  readonly v2: V2Server;
  /** Users, roles, permissions and tokens (etcd's auth store) and the Auth service. */
  readonly auth: AuthServer;
  /** Resolves once this member was removed from the cluster and stopped itself. */
  readonly removed: Promise<void>;
  /** Resolves with the error that stopped the member unexpectedly (it never resolves otherwise). */
  readonly fatal: Promise<Error>;
  /** Request timeout in ms, as etcd's ReqTimeout: 5 s plus two election timeouts. */
  readonly requestTimeoutMs: number;
  /** Messages and membership to the peer transport (see attachTransport). */
  readonly peers: PeerLink;
  /** What the peer transport calls into (its RaftReceiver and SnapshotReceiver). */
  readonly peerReceiver: PeerReceiver;
  /** MsgApp counters and follower latencies behind /v2/stats/self and /v2/stats/leader. */
  readonly v2Stats = new V2Stats();

  private readonly cfg: ServerConfig;
  private readonly logger: Logger;
  private readonly boot: BootState;
  /** The state machines kept in the backend; see snapshot-install.ts. */
  private readonly state: BackendState;
  /** Whether backends are opened without fsync (throwaway tests), for the one a snapshot brings. */
  private readonly unsafeBackendNoSync: boolean | undefined;
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
  /** Commits applied writes in batches (etcd's backend batch interval and limit). */
  private readonly commitScheduler: CommitScheduler;
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
  private resolveRemoved!: () => void;
  /** Polls whether peers refuse this member as removed (see PeerLink.refusedAsRemoved). */
  private removalCheck: NodeJS.Timeout | undefined;
  private removedSeen = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  private constructor(cfg: ServerConfig, logger: Logger, boot: BootState, options: EtcdServerOptions) {
    this.cfg = cfg;
    this.logger = logger;
    this.boot = boot;
    this.unsafeBackendNoSync = options.unsafeBackendNoSync;
    this.memberId = boot.memberId;
    this.clusterId = boot.clusterId;
    this.commitScheduler = new CommitScheduler(
      () => this.backend.batchTx.pendingOps,
      // Not while defrag or a snapshot copy has the backend: commit once it is done.
      () => void (this.backendBusy ?? Promise.resolve()).then(() => this.commitBackend()),
      { intervalMs: cfg.backendBatchIntervalMs || undefined, limit: cfg.backendBatchLimit || undefined },
    );
    this.limits = { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps };
    this.failpoints = options.failpoints ?? Failpoints.parse(process.env[FAILPOINT_ENV]);
    const ticks = electionTicks(cfg);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000 + 2 * ticks * cfg.heartbeatIntervalMs;
    this.reqIds = new IdGenerator(boot.memberId, (options.now ?? Date.now)());
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.removed = new Promise((resolve) => {
      this.resolveRemoved = resolve;
    });
    this.fatal = new Promise((resolve) => {
      this.resolveFatal = resolve;
    });

    this.lessor = Lessor.open(boot.backend, systemClock, {
      minLeaseTtl: minLeaseTtlSeconds(ticks, cfg.heartbeatIntervalMs),
      checkpointing: cfg.experimentalEnableLeaseCheckpoint,
      checkpointIntervalMs: options.leaseCheckpointIntervalMs,
    });
    const state: BackendState = {
      backend: boot.backend,
      kv: KvStore.open(boot.backend, { lessor: this.lessor }),
      membership: boot.membership,
      alarms: new AlarmStore(boot.backend),
    };
    this.state = state;
    this.lease = new LeaseServer({
      lessor: this.lessor,
      get kv() {
        return state.kv;
      },
      logger,
      propose: (r) => this.propose(r),
      nextId: () => this.reqIds.next(),
      fill: (h) => this.fill(h),
      whenReady: () => this.whenReady(),
      memberId: this.memberId,
      leader: () => this.raftNode.lead,
      isLeader: () => this.raftNode.isLeader,
      stopped: () => this.stopped,
      requestTimeoutMs: this.requestTimeoutMs,
      committedIndex: () => this.raftNode.committedIndex,
      appliedIndex: () => this.raftNode.appliedIndex,
      confirmLeadership: () => this.linearizableReadNotify(),
    });
    this.leases = options.leases ?? this.lease;
    this.watch = new WatchServer({
      kv: this.kv,
      logger,
      header: (rev) => this.fill({ clusterId: 0n, memberId: 0n, revision: rev, raftTerm: 0 }),
      backendBusy: () => this.backendBusy !== undefined,
    });
    this.consistentIndex = this.backend.consistentIndex();
    this.dbSize = this.backend.size().size;
    this.quota = new BackendQuota(effectiveQuotaBackendBytes(cfg), () => this.dbSize);
    this.auth = new AuthServer({
      backend: boot.backend,
      propose: (r, md) => this.propose(r, md),
      fill: (h) => this.fill(h),
      whenReady: () => this.whenReady(),
      linearizableRead: () => this.linearizableReadNotify(),
      leases: { keysOf: (id) => this.lessor.lookup(id)?.keys() },
      now: Date.now,
      tokenTtlMs: cfg.authTokenTtlSeconds * 1000,
      appliedIndex: () => this.raftNode.appliedIndex,
    });
    this.applier = new Applier({
      auth: this.auth,
      get kv() {
        return state.kv;
      },
      leases: this.leases,
      lease: this.lease,
      get alarms() {
        return state.alarms;
      },
      get membership() {
        return state.membership;
      },
      quota: this.quota,
      logger,
      onCompaction: () => this.scheduleCompaction(),
      commit: () => this.commitBackend(),
    });
    this.v2 = new V2Server({
      propose: async (req) => (await this.proposeV2(req)).resp as V2Outcome | undefined,
      proposeAsync: (req) => void this.proposeV2(req).catch(() => undefined),
      isLeader: () => this.raftNode.isLeader,
      raftTerm: () => this.raftNode.term,
      committedIndex: () => this.raftNode.committedIndex,
      clock: systemClock,
      logger,
    });
    if (boot.snapshot !== undefined) this.v2.recover(boot.snapshot.data);
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
    this.peers = new PeerLink(boot.memberId, (m) => void this.sendSnapshotMessage(m));
    this.peerReceiver = statsCountingReceiver(
      peerReceiver(
        () => this.raftNode,
        (id) => this.membership.isRemoved(id),
        (s) => this.receiveSnapshot(s),
      ),
      this.v2Stats,
    );
    this.raftNode = new RaftNode({
      id: boot.memberId,
      node,
      storage: boot.storage,
      raftStorage: this.raftStorage,
      sender: statsCountingSender(options.sender ?? this.peers, this.v2Stats, (id) => this.peers.activeSince(id) !== undefined),
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
        onApplied: (index) => {
          this.readIndex.onApplied(index);
          this.lease.onApplied(index);
        },
        persistApplied: () => this.persistApplied(),
        snapshotData: () => this.v2.save(),
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
    s.lease.start();
    s.watch.start();
    s.v2.start();
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

  /**
   * Connects the peer transport (once, right after start): raft's messages go to it from now on,
   * and every member of the applied membership becomes its peer.
   */
  attachTransport(transport: ClusterTransport): void {
    this.peers.attach(transport, [...(this.boot.remoteMembers ?? []), ...this.membership.members()]);
    this.removalCheck = setInterval(() => {
      if (!this.stopped && this.peers.refusedAsRemoved()) this.onRemoved();
    }, 1000);
    this.removalCheck.unref();
  }

  /** Streams a consistent copy of the backend with a MsgSnap raft wants sent. */
  private async sendSnapshotMessage(m: Message): Promise<void> {
    const transport = this.peers.attached;
    if (transport === undefined || this.stopped) return;
    const copy = `${this.boot.layout.backendPath}.peer-snapshot-${this.reqIds.next().toString(16)}`;
    let merged = m;
    try {
      await this.exclusiveBackend(async () => {
        await this.commitBackend();
        await this.backend.flushed();
        await copyFile(this.boot.layout.backendPath, copy);
        // etcd's merged snapshot: the metadata of what the copy holds (applied index, its term,
        // today's membership) and the v2 store now, not raft's stored snapshot, which may predate
        // the member it goes to (raft would refuse a snapshot whose ConfState lacks it).
        const index = this.consistentIndex;
        const term = this.boot.storage.term(index);
        if (typeof term !== 'number') throw new Error(`no term for applied index ${index}: ${String(term)}`);
        merged = { ...m, snapshot: { data: this.v2.save(), metadata: { index, term, confState: this.raftNode.confState } } };
      });
    } catch (err) {
      await unlink(copy).catch(() => undefined);
      this.logger.warn('failed to copy the backend for a peer snapshot', { 'remote-peer-id': formatId(m.to), error: err });
      this.raftNode.reportSnapshot(m.to, false);
      return;
    }
    await sendBackendSnapshot(transport, merged, copy);
  }

  /** Takes over a backend received with a MsgSnap; raft installs it when it steps the message. */
  private async receiveSnapshot(s: IncomingSnapshot): Promise<void> {
    if (this.stopped) throw rpcError('stopped');
    await installReceivedSnapshot(this.boot.layout.snapDir, s);
  }

  // ---- host loop hooks

  private onSoftState(ss: SoftState): void {
    if (ss.raftState !== StateType.StateLeader) this.lease.onNotLeader();
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
    if (ss.lead !== this.prevLead) this.v2Stats.leaderChanged(ss.lead);
    this.prevLead = ss.lead;
  }

  private onReadStates(rs: readonly ReadState[]): void {
    this.readIndex.onReadStates(rs);
  }

  /** Installs a leader's snapshot raft has persisted (etcd's applySnapshot); see snapshot-install.ts. */
  private async applySnapshot(snap: Snapshot): Promise<void> {
    const before = this.membership.members();
    await this.exclusiveBackend(async () => {
      await this.lastCommit.catch(() => undefined);
      this.consistentIndex = await installSnapshot(
        { layout: this.boot.layout, state: this.state, lessor: this.lessor, watch: this.watch, v2: this.v2, logger: this.logger, unsafeBackendNoSync: this.unsafeBackendNoSync },
        snap,
      );
      this.auth.recover(this.backend);
    });
    this.dbSize = this.backend.size().size;
    // The transport's peers follow the snapshot's membership.
    const after = this.membership.members();
    for (const m of before) if (!after.some((x) => x.id === m.id)) this.peers.memberRemoved(m.id);
    this.peers.syncMembers(after);
    if (this.kv.pendingCompaction() !== undefined) this.scheduleCompaction();
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
    if (!this.failpoints.isArmed('after-commit')) {
      // The WAL holds these entries durably: the backend commits them with later ones (see CommitScheduler).
      this.commitScheduler.written();
      return;
    }
    await this.commitBackend();
    this.failpoints.hit('after-commit');
  }

  private applyEntryNormal(e: Entry): void {
    // Entries the backend already reflects were applied before a restart: skip them (idempotence);
    // the v2 store lives in memory only, so its requests are applied again.
    if (e.index <= this.consistentIndex) {
      if (e.data.length !== 0) {
        const v2 = InternalRaftRequest.decode(e.data).v2;
        if (v2 !== undefined) this.v2.apply(v2);
      }
      return;
    }
    if (e.data.length === 0) {
      // A new leader's empty entry: its term's first commit. Settle the cluster version if unset.
      // Every earlier entry is applied now: the lessor may count down (etcd promotes here).
      if (this.raftNode.isLeader) this.lease.onLeaderReady(electionTicks(this.cfg) * this.cfg.heartbeatIntervalMs);
      if (this.raftNode.isLeader && this.membership.clusterVersion === undefined) void this.updateClusterVersion();
      return;
    }
    const r = InternalRaftRequest.decode(e.data);
    if (r.v2 !== undefined) {
      const applied = this.applier.applyV2(r.v2);
      const out = this.v2.apply(r.v2);
      this.wait.trigger(r.v2.ID ?? r.ID, out === undefined ? applied : { resp: out });
      return;
    }
    const id = r.ID !== 0n ? r.ID : (r.header?.ID ?? 0n);
    // A range nobody waits for has no effect (etcd's noSideEffect).
    if (r.range !== undefined && !this.wait.isRegistered(id)) return;
    this.wait.trigger(id, this.applier.apply(r, e.index));
  }

  private applyConfChange(cc: ConfChange, index: number): void {
    if (index <= this.consistentIndex) {
      // Replayed: raft must see it again, the backend's membership has it already.
      this.raftNode.applyConfChange(cc);
      this.v2.applyConfChange(cc);
      return;
    }
    const err = this.validateConfChange(cc);
    if (err !== undefined) {
      this.wait.trigger(cc.id, { err });
      return;
    }
    this.raftNode.applyConfChange(cc);
    this.v2.applyConfChange(cc);
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const { member, isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
        if (member.id !== cc.nodeId) throw new Error(`conf change for ${formatId(cc.nodeId)} carries member ${formatId(member.id)}`);
        if (isPromote) this.membership.promote(member.id);
        else {
          this.membership.add(member);
          this.peers.memberAdded(member);
        }
        break;
      }
      case ConfChangeType.ConfChangeRemoveNode:
        this.membership.remove(cc.nodeId);
        this.peers.memberRemoved(cc.nodeId);
        if (cc.nodeId === this.memberId) this.onRemoved();
        break;
      case ConfChangeType.ConfChangeUpdateNode: {
        const { member } = memberFromJson(new TextDecoder().decode(cc.context));
        this.membership.updatePeerUrls(member.id, member.peerUrls);
        this.peers.memberUpdated(member);
        break;
      }
    }
    this.wait.trigger(cc.id, { resp: this.membership.members() });
  }

  /** This member was removed from the cluster: it stops once the batch removing it is applied (etcd's shouldStop). */
  private onRemoved(): void {
    if (this.removedSeen) return;
    this.removedSeen = true;
    this.logger.warn('the member has been permanently removed from the cluster', { 'local-member-id': formatId(this.memberId) });
    setImmediate(() => {
      this.resolveRemoved();
      void this.stop();
    });
  }

  /** etcd's ValidateConfigurationChange, for the changes that can reach the log today. */
  private validateConfChange(cc: ConfChange): RpcError | undefined {
    if (this.membership.isRemoved(cc.nodeId)) return rpcError('member-not-found');
    const exists = this.membership.member(cc.nodeId) !== undefined;
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const { member, isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
        if (isPromote) return exists ? undefined : rpcError('member-not-found');
        if (exists) return rpcError('member-exist');
        const taken = new Set(this.membership.members().flatMap((m) => m.peerUrls));
        if (member.peerUrls.some((u) => taken.has(u))) return rpcError('peer-url-exist');
        if (member.isLearner && this.membership.members().filter((m) => m.isLearner).length >= MAX_LEARNERS) return rpcError('too-many-learners');
        return undefined;
      }
      case ConfChangeType.ConfChangeUpdateNode: {
        if (!exists) return rpcError('member-not-found');
        const { member } = memberFromJson(new TextDecoder().decode(cc.context));
        const taken = new Set(this.membership.members().filter((m) => m.id !== cc.nodeId).flatMap((m) => m.peerUrls));
        return member.peerUrls.some((u) => taken.has(u)) ? rpcError('peer-url-exist') : undefined;
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
    this.commitScheduler.committed();
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
    // A failed member stops at once: no leadership transfer first.
    this.stopped = true;
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
  private async propose(r: pb.InternalRaftRequest, md?: RequestMetadata, call?: CallState): Promise<ApplyResult> {
    this.checkServing();
    const node = this.raftNode;
    if (node.committedIndex > node.appliedIndex + MAX_APPLY_LAG) throw rpcError('too-many-requests');
    const id = this.reqIds.next();
    r.header = { ID: id, username: '', authRevision: 0 };
    if (this.auth.enabled) await this.auth.stampHeader(r.header, md);
    const data = InternalRaftRequest.encode(r);
    if (data.length > this.cfg.maxRequestBytes) throw rpcError('request-too-large');
    const result = this.wait.register(id);
    this.timeouts.add(id);
    node.propose(data, id, call);
    const res = await result;
    if (res.err !== undefined) {
      // Checked at an auth revision that changed before it applied: check again (etcd's raftRequest).
      if (res.err.code === 'auth-old-revision') return this.propose(r, md, call);
      throw res.err;
    }
    return res;
  }

  /** Proposes a v2 request (member attributes, cluster version) and waits for it to apply. */
  private async proposeV2(req: pb.Request): Promise<ApplyResult> {
    this.checkServing();
    const id = this.reqIds.next();
    // The caller gives the request away (V2Server.do and literals): stamped, not copied.
    req.ID = id;
    const r: pb.InternalRaftRequest = { ID: id, v2: req };
    const result = this.wait.register(id);
    this.timeouts.add(id);
    this.raftNode.propose(InternalRaftRequest.encode(r), id);
    const res = await result;
    if (res.err !== undefined) throw res.err;
    return res;
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
  private checkQuota(cost: number): Promise<void> | undefined {
    return this.quota.available(cost) ? undefined : this.refuseOverQuota();
  }

  private async refuseOverQuota(): Promise<void> {
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
  private async whenReady(learnerAllowed = false): Promise<void> {
    const wait = this.readyNow(learnerAllowed);
    if (wait !== undefined) await wait;
  }

  /**
   * whenReady for the write path: when the member already serves, the checks run at once and
   * nothing is returned, so the request takes no extra microtask turn (an `await` of anything
   * costs one); else the wait. Throws when the member cannot serve the call.
   */
  private readyNow(learnerAllowed = false): Promise<void> | undefined {
    if (!this.isReady) return this.waitReady(learnerAllowed);
    this.checkServing();
    // etcd's learners serve only Status and serializable Range (isRPCSupportedForLearner).
    if (!learnerAllowed && this.membership.member(this.memberId)?.isLearner === true) throw rpcError('not-supported-for-learner');
    return undefined;
  }

  private async waitReady(learnerAllowed: boolean): Promise<void> {
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
    await this.readyNow(learnerAllowed);
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

  async range(req: pb.RangeRequest, md?: RequestMetadata): Promise<pb.RangeResponse> {
    await this.whenReady(req.serializable);
    const invalid = checkRangeRequest(req);
    if (invalid !== undefined) throw invalid;
    if (!req.serializable) await this.linearizableReadNotify();
    if (this.auth.enabled) await this.auth.checkRange(md, req.key, req.rangeEnd);
    if (this.backendBusy !== undefined) await this.backendIdle();
    const r = applyRange(this.kv, req);
    if ('err' in r) throw r.err;
    r.resp.header = this.fill(r.resp.header);
    return r.resp;
  }

  async put(req: pb.PutRequest, md?: RequestMetadata, call?: CallState): Promise<pb.PutResponse> {
    const ready = this.readyNow();
    if (ready !== undefined) await ready;
    const overQuota = this.checkQuota(this.quota.costPut(req));
    if (overQuota !== undefined) await overQuota;
    const invalid = checkPutRequest(req);
    if (invalid !== undefined) throw invalid;
    const res = await this.propose({ ID: 0n, put: req }, md, call);
    const resp = res.resp as pb.PutResponse;
    resp.header = this.fill(resp.header);
    return resp;
  }

  async deleteRange(req: pb.DeleteRangeRequest, md?: RequestMetadata, call?: CallState): Promise<pb.DeleteRangeResponse> {
    const ready = this.readyNow();
    if (ready !== undefined) await ready;
    const invalid = checkDeleteRequest(req);
    if (invalid !== undefined) throw invalid;
    const res = await this.propose({ ID: 0n, deleteRange: req }, md, call);
    const resp = res.resp as pb.DeleteRangeResponse;
    resp.header = this.fill(resp.header);
    return resp;
  }

  async txn(req: pb.TxnRequest, md?: RequestMetadata, call?: CallState): Promise<pb.TxnResponse> {
    const ready = this.readyNow();
    if (ready !== undefined) await ready;
    const readonly = isTxnReadonly(req);
    const overQuota = readonly ? undefined : this.checkQuota(this.quota.costTxn(req));
    if (overQuota !== undefined) await overQuota;
    const invalid = checkTxnRequest(req, this.cfg.maxTxnOps);
    if (invalid !== undefined) throw invalid;
    if (readonly) {
      // A read-only txn is served locally, after a read index round unless all its ranges are serializable.
      if (!isTxnSerializable(req)) await this.linearizableReadNotify();
      if (this.auth.enabled) await this.auth.checkTxn(md, req);
      if (this.backendBusy !== undefined) await this.backendIdle();
      const r = applyTxn(this.kv, this.leases, req);
      if ('err' in r) throw r.err;
      r.resp.header = this.fill(r.resp.header);
      return r.resp;
    }
    const res = await this.propose({ ID: 0n, txn: req }, md, call);
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
    // etcd's MoveLeader: a started (published) voter only.
    if (target === undefined || target.isLearner || target.name === '') throw rpcError('bad-leader-transferee');
    const moved = await transferLeadership(this.raftNode, req.targetID, this.requestTimeoutMs, this.cfg.heartbeatIntervalMs, () => this.stopped);
    this.checkServing();
    if (!moved) throw rpcError('timeout');
    return {};
  }

  /**
   * A leader of several members hands leadership to its most up-to-date voter before it stops
   * (etcd's TransferLeadership on Stop), waiting at most two election timeouts: the others then
   * need not wait out an election timeout to notice it is gone.
   */
  private async transferLeadershipOnStop(): Promise<void> {
    if (this.stopped || !this.raftNode.isLeader || this.peers.attached === undefined) return;
    const progress = this.raftNode.status().progress;
    const transferee = pickTransferee(this.memberId, this.membership.members(), (id) => progress.get(id)?.match, (id) => this.peers.activeSince(id));
    if (transferee === undefined) return;
    const started = performance.now();
    const timeoutMs = 2 * electionTicks(this.cfg) * this.cfg.heartbeatIntervalMs;
    const moved = await transferLeadership(this.raftNode, transferee, timeoutMs, this.cfg.heartbeatIntervalMs);
    const fields = { 'local-member-id': formatId(this.memberId), transferee: formatId(transferee), took: `${Math.round(performance.now() - started)}ms` };
    if (moved) this.logger.info('leadership transferred before stopping', fields);
    else this.logger.warn('leadership transfer before stopping did not finish; stopping anyway', fields);
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

  /**
   * Adds a member (etcd's AddMember): its ID is drawn from its peer URLs and the time; with
   * --strict-reconfig-check the change must keep a quorum of started, connected voters.
   */
  async memberAdd(req: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    await this.whenReady();
    for (const u of req.peerURLs) if (!parseEtcdUrl(u).ok) throw rpcError('member-bad-urls');
    const taken = new Set(this.membership.members().flatMap((m) => m.peerUrls));
    if (req.peerURLs.some((u) => taken.has(u))) throw rpcError('peer-url-exist');
    const peerUrls = [...req.peerURLs].sort();
    const member: Member = { id: computeMemberId(peerUrls, '', Math.floor(Date.now() / 1000)), name: '', peerUrls, clientUrls: [], isLearner: req.isLearner };
    const refused = mayAddMember(this.cfg.strictReconfigCheck, this.membership.members(), member.isLearner, this.memberId, (id) => this.peers.activeSince(id), Date.now());
    if (refused !== undefined) throw refused;
    await this.proposeMemberChange({
      id: 0n,
      type: member.isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
      nodeId: member.id,
      context: new TextEncoder().encode(memberToJson(member)),
    });
    return { header: this.memberHeader(), member: memberToProto(member), members: this.membership.members().map(memberToProto) };
  }

  /** Removes a member (etcd's RemoveMember); a member removing itself stops once it is applied. */
  async memberRemove(req: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> {
    await this.whenReady();
    if (this.membership.member(req.ID) === undefined) throw rpcError('member-not-found');
    const refused = mayRemoveMember(this.cfg.strictReconfigCheck, this.membership.members(), req.ID, this.memberId, (id) => this.peers.activeSince(id), Date.now());
    if (refused !== undefined) throw refused;
    await this.proposeMemberChange({ id: 0n, type: ConfChangeType.ConfChangeRemoveNode, nodeId: req.ID, context: new Uint8Array(0) });
    return { header: this.memberHeader(), members: this.membership.members().map(memberToProto) };
  }

  /** Changes a member's peer URLs (etcd's UpdateMember). */
  async memberUpdate(req: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> {
    await this.whenReady();
    const m = this.membership.member(req.ID);
    if (m === undefined) throw rpcError('member-not-found');
    for (const u of req.peerURLs) if (!parseEtcdUrl(u).ok) throw rpcError('member-bad-urls');
    const updated: Member = { ...m, peerUrls: [...req.peerURLs].sort() };
    await this.proposeMemberChange({ id: 0n, type: ConfChangeType.ConfChangeUpdateNode, nodeId: req.ID, context: new TextEncoder().encode(memberToJson(updated)) });
    return { header: this.memberHeader(), members: this.membership.members().map(memberToProto) };
  }

  /**
   * Promotes a learner to a voter (etcd's PromoteMember): only the leader knows whether the
   * learner is in sync, so a follower forwards the request to it over the peer port.
   */
  async memberPromote(req: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> {
    await this.whenReady();
    const m = this.membership.member(req.ID);
    if (m === undefined) throw rpcError('member-not-found');
    if (!m.isLearner) throw rpcError('member-not-learner');
    if (!this.raftNode.isLeader) {
      const leader = this.membership.member(this.raftNode.lead);
      if (leader === undefined) throw rpcError('no-leader');
      await forwardPromote(leader.peerUrls, req.ID, this.requestTimeoutMs);
      return { header: this.memberHeader(), members: this.membership.members().map(memberToProto) };
    }
    await this.promoteAsLeader(m);
    return { header: this.memberHeader(), members: this.membership.members().map(memberToProto) };
  }

  /** The leader's side of a promotion (also reached through the peer port's promote path). */
  async promoteAsLeader(m: Member): Promise<void> {
    const status = this.raftNode.status();
    const leaderMatch = status.progress.get(this.memberId)?.match;
    if (leaderMatch === undefined) throw rpcError('not-leader');
    const learnerMatch = status.progress.get(m.id)?.match ?? 0;
    if (!isLearnerInSync(leaderMatch, learnerMatch)) throw rpcError('learner-not-ready');
    const refused = mayPromoteMember(this.cfg.strictReconfigCheck, this.membership.members(), m.id);
    if (refused !== undefined) throw refused;
    await this.proposeMemberChange({
      id: 0n,
      type: ConfChangeType.ConfChangeAddNode,
      nodeId: m.id,
      context: new TextEncoder().encode(memberToJson({ ...m, isLearner: false }, true)),
    });
  }

  /** Proposes a membership change and waits until it is applied (or refused when applied). */
  private async proposeMemberChange(cc: ConfChange): Promise<void> {
    this.checkServing();
    const id = this.reqIds.next();
    const result = this.wait.register(id);
    this.timeouts.add(id);
    this.raftNode.proposeConfChange({ ...cc, id });
    const res = await result;
    if (res.err !== undefined) throw res.err;
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
    this.stopping ??= this.transferLeadershipOnStop()
      .catch((err: unknown) => this.logger.warn('leadership transfer before stopping failed', { error: err }))
      .then(() => this.doStop());
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.removalCheck);
    this.compactor?.stop();
    this.lease.stop();
    this.watch.stop();
    this.v2.stop();
    if (this.compactionTimer !== undefined) clearTimeout(this.compactionTimer);
    this.commitScheduler.stop();
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
