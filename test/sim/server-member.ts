/**
 * One simulated etcd-ts member running the server's logic synchronously: the host loop of
 * src/server/raft-node.ts (persist → send → apply → advance, a leader sending before it
 * persists, proposals held while no leader is known, snapshots every `snapshotCount` applies
 * keeping `catchUpEntries`), the apply path of src/server/etcd-server.ts (consistent-index skip,
 * the server's Applier, LeaseServer.apply, MembershipStore for conf changes, the lessor promoted
 * at the leader's first entry), snapshot install as src/server/snapshot-install.ts does it (the
 * leader's committed backend travels with the MsgSnap), linearizable reads as
 * src/server/read-index.ts batches them, and the leader's lease revoke loop. The real MVCC store,
 * lessor, alarm and membership stores run over a MemoryBackend.
 *
 * Its disk (DurableStore for the WAL and snapshots, BackendFile for the backend) survives a
 * crash; everything else is rebuilt by `boot`.
 */
import * as pb from '../../src/api/gen/etcdserverpb.js';
import { ConfChangeType, EntryType, MessageType, emptyConfState, type ConfChange, type ConfState, type Entry, type Message, type Snapshot } from '../../src/api/raftpb/types.js';
import { rpcError, type RpcError } from '../../src/api/rpctypes/index.js';
import { Lessor, minLeaseTtlSeconds, LEASE_REVOKE_RATE } from '../../src/lease/index.js';
import { KvStore } from '../../src/mvcc/index.js';
import type { ManualClock } from '../../src/pkg/clock.js';
import { IdGenerator } from '../../src/pkg/id-generator.js';
import { nopLogger } from '../../src/pkg/logger.js';
import { seededRand } from '../../src/pkg/rand.js';
import { RawNode, StateType, isStorageError, marshalConfChange, unmarshalConfChange, unmarshalConfChangeV2, type MemoryStorage, type ReadState } from '../../src/raft/index.js';
import { AlarmStore } from '../../src/server/alarm-store.js';
import { Applier, CLUSTER_VERSION_PATH, type ApplyResult } from '../../src/server/applier.js';
import { applyRange } from '../../src/server/kv-apply.js';
import { pickTransferee } from '../../src/server/leader-transfer.js';
import { LeaseServer } from '../../src/server/lease-server.js';
import { attributesToJson, memberFromJson, memberToJson, type Member } from '../../src/server/member.js';
import { MembershipStore } from '../../src/server/membership-store.js';
import { BackendQuota } from '../../src/server/quota.js';
import { CLUSTER_VERSION } from '../../src/server/config/version.js';
import { DurableStore } from './durable-store.js';
import { BackendFile, MemoryBackend } from './memory-backend.js';

/** Milliseconds of simulated time per tick (etcd's default --heartbeat-interval). */
export const TICK_MS = 100;
/** Ticks of an election timeout (etcd's default 1000 ms --election-timeout). */
export const ELECTION_TICKS = 10;
/** etcd's request timeout (5 s plus two election timeouts), in ticks. */
export const REQUEST_TIMEOUT_TICKS = (5000 + 2 * ELECTION_TICKS * TICK_MS) / TICK_MS;
/** The leader's lease loop runs every 500 ms (LEASE_LOOP_INTERVAL_MS). */
const LEASE_LOOP_TICKS = 5;
const COMPACTION_BATCH = 100;

/** Where a planned crash strikes in the member's Ready handling. */
export type CrashPoint = 'before-persist' | 'after-persist' | 'mid-apply' | 'after-apply';
/** Every crash point, for random choice. */
export const CRASH_POINTS: readonly CrashPoint[] = ['before-persist', 'after-persist', 'mid-apply', 'after-apply'];

/** What a client gets back: the apply result or the error the server would answer with. */
export type Outcome = { ok: true; resp: unknown } | { ok: false; err: RpcError | string };

/** Seed-drawn parameters of every member of one run. */
export interface MemberConfig {
  readonly snapshotCount: number;
  readonly catchUpEntries: number;
  /** Probability that an apply batch is followed by a backend commit (else it waits in the batch). */
  readonly commitChance: number;
  readonly maxSizePerMsg: number;
  readonly maxInflight: number;
  readonly seed: number;
  /**
   * Whether a MsgSnap carries the sender's applied index, term and membership (etcd's
   * createMergedSnapshotMessage) instead of raft's stored snapshot metadata, which is what
   * EtcdServer.sendSnapshotMessage sends today. With the stored metadata, a member added after the
   * last snapshot refuses it (it is not in its ConfState) until the leader takes another one.
   */
  readonly mergedSnapshots: boolean;
}

/** What the member needs from the simulation around it. */
export interface MemberEnv {
  tick(): number;
  readonly clock: ManualClock;
  send(from: ServerMember, m: Message): void;
  event(s: string): void;
  /** A broken invariant: stops the run. */
  fail(msg: string): never;
  /** A member applied a successful lease revoke (expired or asked for). */
  onLeaseRevoked(id: bigint): void;
  /** A member applied entry `e` at its consistent index (not skipped). */
  onApplied(member: ServerMember, e: Entry, rev: number): void;
}

interface Waiter {
  done: (o: Outcome) => void;
  deadline: number;
}

interface ReadWaiter {
  /** The range to serve; undefined for a leadership confirmation only. */
  req: pb.RangeRequest | undefined;
  done: (o: Outcome) => void;
}

interface ReadRound {
  ctx: Uint8Array;
  waiters: ReadWaiter[];
  /** The confirmed read index; -1 until its ReadState arrives. */
  index: number;
  deadline: number;
}

/** `up`: running; `down`: crashed, may restart; `gone`: removed from the cluster, stopped. */
export type MemberLife = 'up' | 'down' | 'gone';

/** See the file comment. */
export class ServerMember {
  readonly disk = new DurableStore();
  readonly backendFile = new BackendFile();
  life: MemberLife = 'down';
  incarnation = 0;
  crashPoint: CrashPoint | undefined;
  downSince = 0;
  /** Snapshots installed from a leader (over every life). */
  snapshotsInstalled = 0;
  /** Raft snapshots taken locally (over every life). */
  snapshotsTaken = 0;
  /** Simulated time of the last boot, ms (peers count it as connected since then). */
  bootedAtMs = 0;

  // ---- the running process (valid while up)
  raw!: RawNode;
  mem!: MemoryStorage;
  backend!: MemoryBackend;
  lessor!: Lessor;
  kv!: KvStore;
  membership!: MembershipStore;
  alarms!: AlarmStore;
  private leaseServer!: LeaseServer;
  private applier!: Applier;
  private reqIds!: IdGenerator;
  role: StateType = StateType.StateFollower;
  lead = 0n;
  term = 0;
  committedIndex = 0;
  /** invariant: appliedIndex <= committedIndex. */
  appliedIndex = 0;
  snapshotIndex = 0;
  confState: ConfState = emptyConfState();
  /** The raft index the backend's data reflects. */
  consistentIndex = 0;
  /** Whether the member published its attributes and serves clients (etcd's readyc). */
  ready = false;
  private proposals: { data: Uint8Array; id: bigint }[] = [];
  private confChanges: ConfChange[] = [];
  private readonly waiters = new Map<bigint, Waiter>();
  private readWaiting: ReadWaiter[] = [];
  private round: ReadRound | undefined;
  private prevLead = 0n;
  private draws = seededRand(0);
  private revoking = new Set<bigint>();
  private publishing = false;
  private versionProposing = false;

  constructor(
    readonly id: bigint,
    /** Founders write the bootstrap entries; a joining member starts with an empty log. */
    readonly founder: boolean,
    private readonly founders: readonly Member[],
    private readonly cfg: MemberConfig,
    private readonly env: MemberEnv,
  ) {}

  /** This member as etcd describes it. */
  static describe(id: bigint, isLearner = false): Member {
    return { id, name: '', peerUrls: [`http://m${id}:2380`], clientUrls: [], isLearner };
  }

  get isLeader(): boolean {
    return this.role === StateType.StateLeader;
  }

  // ---- boot and crash

  /** Starts (or restarts) the process from its disk, as bootstrap.ts and EtcdServer's constructor do. */
  boot(): void {
    const disk = this.disk;
    if (this.founder && disk.lastIndex() === 0 && disk.snapshot === undefined) {
      // bootstrap.ts writeBootstrap: one committed ConfChangeAddNode per initial member at term 1.
      const ents: Entry[] = this.founders.map((m, i) => ({
        term: 1,
        index: i + 1,
        type: EntryType.EntryConfChange,
        data: marshalConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: m.id, context: new TextEncoder().encode(memberToJson(m)) }),
      }));
      disk.append(ents);
      disk.hardState = { term: 1, vote: 0n, commit: ents.length };
    }
    this.backend = new MemoryBackend(this.backendFile);
    // A received snapshot made durable before its install finished (openBackendForSnapshot).
    const snap = disk.snapshot;
    if (snap !== undefined && snap.data.length > 0 && this.backend.consistentIndex() < snap.metadata.index) {
      this.replaceBackendFile(snap.data);
      this.backend = new MemoryBackend(this.backendFile);
    }
    this.openStateMachines(this.backend);
    this.consistentIndex = this.backend.consistentIndex();
    if (snap !== undefined && this.consistentIndex < snap.metadata.index) {
      this.env.fail(`member ${this.id}: backend at consistent index ${this.consistentIndex} is behind the snapshot at ${snap.metadata.index}`);
    }
    this.bootedAtMs = this.env.clock.now();
    this.reqIds = new IdGenerator(this.id, this.bootedAtMs);
    this.draws = seededRand(this.cfg.seed * 7 + Number(this.id) * 131 + this.incarnation * 1009);
    this.mem = disk.load();
    const applied = snap?.metadata.index ?? 0;
    this.raw = new RawNode({
      id: this.id,
      electionTick: ELECTION_TICKS,
      heartbeatTick: 1,
      storage: this.mem,
      applied,
      maxSizePerMsg: this.cfg.maxSizePerMsg,
      maxInflightMsgs: this.cfg.maxInflight,
      checkQuorum: true,
      preVote: true,
      rand: seededRand(this.cfg.seed * 1000003 + Number(this.id) * 7919 + this.incarnation),
    });
    const hs = this.mem.hardState;
    this.term = hs.term;
    this.committedIndex = hs.commit;
    this.appliedIndex = applied;
    this.snapshotIndex = applied;
    this.confState = snap?.metadata.confState ?? emptyConfState();
    this.role = StateType.StateFollower;
    this.lead = 0n;
    this.prevLead = 0n;
    this.ready = false;
    this.publishing = false;
    this.versionProposing = false;
    this.proposals = [];
    this.confChanges = [];
    this.readWaiting = [];
    this.round = undefined;
    this.revoking = new Set();
    this.crashPoint = undefined;
    this.stopping = undefined;
    this.life = 'up';
    this.publish();
  }

  /** Opens the state machines over `backend`: lessor before the MVCC store (EtcdServer's order). */
  private openStateMachines(backend: MemoryBackend): void {
    const be = backend.asBackend();
    this.lessor = Lessor.open(be, this.env.clock, { minLeaseTtl: minLeaseTtlSeconds(ELECTION_TICKS, TICK_MS) });
    this.kv = KvStore.open(be, { lessor: this.lessor });
    this.membership = new MembershipStore(be);
    this.alarms = new AlarmStore(be);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.leaseServer = new LeaseServer({
      lessor: this.lessor,
      get kv() {
        return self.kv;
      },
      logger: nopLogger,
      propose: () => Promise.reject(new Error('the simulation proposes lease requests itself')),
      nextId: () => this.reqIds.next(),
      fill: (h) => h ?? { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 },
      whenReady: () => Promise.resolve(),
      memberId: this.id,
      leader: () => this.lead,
      isLeader: () => this.isLeader,
      stopped: () => this.life !== 'up',
      requestTimeoutMs: REQUEST_TIMEOUT_TICKS * TICK_MS,
      committedIndex: () => this.committedIndex,
      appliedIndex: () => this.appliedIndex,
    });
    this.applier = new Applier({
      get kv() {
        return self.kv;
      },
      leases: this.leaseServer,
      lease: this.leaseServer,
      get alarms() {
        return self.alarms;
      },
      get membership() {
        return self.membership;
      },
      quota: new BackendQuota(undefined, () => 0),
      logger: nopLogger,
      // The simulation drives compaction every tick and commits the backend itself.
      onCompaction: () => undefined,
      commit: () => Promise.resolve(),
    });
  }

  /** The process dies: memory, the open backend batch and every waiter are lost. */
  crash(where: string): void {
    this.env.event(`crash ${this.id} (${where})`);
    this.life = 'down';
    this.stopProcess('crashed');
    this.incarnation++;
    this.downSince = this.env.tick();
  }

  /** While a removed leader hands over before stopping: the transferee and the tick it gives up. */
  stopping: { transferee: bigint; until: number } | undefined;

  /**
   * The member applied its own removal (EtcdServer.onRemoved → stop): a leader first hands
   * leadership to its most caught-up started voter (transferLeadershipOnStop, pickTransferee),
   * waiting at most two election timeouts while it keeps running. Any member stops only after
   * the turns of the current tick, so what raft queued when it stepped down (the heartbeats that
   * tell the others the removal is committed) goes out, as etcd's stopWithDelay lets it.
   */
  beginStop(activeSince: (id: bigint) => number | undefined): void {
    if (this.stopping !== undefined || this.life !== 'up') return;
    if (this.isLeader) {
      const progress = this.raw.status().progress;
      const transferee = pickTransferee(this.id, this.membership.members(), (id) => progress.get(id)?.match, activeSince);
      if (transferee !== undefined) {
        this.env.event(`removed leader ${this.id} hands over to ${transferee} before stopping`);
        this.raw.transferLeader(transferee);
        this.stopping = { transferee, until: this.env.tick() + 2 * ELECTION_TICKS };
        return;
      }
    }
    this.stopping = { transferee: 0n, until: this.env.tick() };
  }

  /** The member was removed from the cluster and stops for good. */
  stopRemoved(): void {
    if (this.life === 'gone') return;
    this.env.event(`member ${this.id} removed; stops`);
    const wasUp = this.life === 'up';
    this.life = 'gone';
    if (wasUp) this.stopProcess('stopped');
  }

  private stopProcess(why: string): void {
    this.backend.close();
    const waiters = [...this.waiters.values()];
    const reads = [...this.readWaiting, ...(this.round?.waiters ?? [])];
    this.waiters.clear();
    this.readWaiting = [];
    this.round = undefined;
    for (const w of waiters) w.done({ ok: false, err: why });
    for (const w of reads) w.done({ ok: false, err: why });
  }

  // ---- client requests (EtcdServer's put/deleteRange/txn/range/lease methods)

  /** Proposes `r` and calls `done` with its outcome (etcd's processInternalRaftRequestOnce). */
  propose(r: pb.InternalRaftRequest, done: (o: Outcome) => void): void {
    const id = this.reqIds.next();
    r.header = { ID: id, username: '', authRevision: 0 };
    this.waiters.set(id, { done, deadline: this.env.tick() + REQUEST_TIMEOUT_TICKS });
    this.proposals.push({ data: pb.InternalRaftRequest.encode(r), id });
  }

  /** A linearizable range: waits for a read index round, then reads the local store. */
  linearizableRange(req: pb.RangeRequest, done: (o: Outcome) => void): void {
    this.readWaiting.push({ req, done });
  }

  /** Proposes a membership change (etcd's proposeMemberChange). */
  proposeMemberChange(cc: ConfChange, done: (o: Outcome) => void): void {
    const id = this.reqIds.next();
    this.waiters.set(id, { done, deadline: this.env.tick() + REQUEST_TIMEOUT_TICKS });
    this.confChanges.push({ ...cc, id });
  }

  /** A fresh request ID of this member (lease IDs are drawn from it, as LeaseServer.leaseGrant does). */
  nextRequestId(): bigint {
    return this.reqIds.next();
  }

  /** Renews a lease on this member (LeaseKeepAlive on the leader). */
  renewLease(id: bigint): boolean {
    return this.lessor.renew(id).ok;
  }

  /** Publishes this member's attributes through raft until it succeeds (EtcdServer.publish). */
  private publish(): void {
    if (this.publishing || this.ready || this.life !== 'up') return;
    this.publishing = true;
    const val = attributesToJson({ name: `m${this.id}`, clientUrls: [`http://m${this.id}:2379`] });
    this.proposeV2({ Method: 'PUT', Path: `/0/members/${this.id.toString(16)}/attributes`, Val: val }, (o) => {
      this.publishing = false;
      if (o.ok) this.ready = true;
      else if (this.life === 'up') this.publish();
    });
  }

  private proposeV2(req: Partial<pb.Request>, done: (o: Outcome) => void): void {
    const id = this.reqIds.next();
    const r: pb.InternalRaftRequest = { ID: id, v2: { ...pb.createRequest(req), ID: id } };
    this.waiters.set(id, { done, deadline: this.env.tick() + REQUEST_TIMEOUT_TICKS });
    this.proposals.push({ data: pb.InternalRaftRequest.encode(r), id });
  }

  // ---- the host loop

  /** One tick of the raft clock, the proposal timeouts and the leader's lease loop. */
  tick(): void {
    const now = this.env.tick();
    if (this.stopping !== undefined && ((this.stopping.transferee !== 0n && this.lead === this.stopping.transferee) || now >= this.stopping.until)) {
      this.stopRemoved();
      return;
    }
    this.raw.tick();
    for (const [id, w] of this.waiters) {
      if (now <= w.deadline) continue;
      const queued = this.proposals.findIndex((p) => p.id === id);
      if (queued >= 0) this.proposals.splice(queued, 1);
      this.waiters.delete(id);
      w.done({ ok: false, err: rpcError(queued >= 0 && this.lead === 0n ? 'no-leader' : 'timeout') });
    }
    if (this.round !== undefined && now > this.round.deadline) this.finishRound(rpcError(this.lead === 0n ? 'no-leader' : 'timeout'));
    if (now % LEASE_LOOP_TICKS === 0) this.leaseLoop();
    if (this.kv.pendingCompaction() !== undefined) this.kv.compactionStep(COMPACTION_BATCH);
    if (!this.ready && !this.publishing) this.publish();
  }

  /**
   * LeaseServer's loop: the primary proposes a revoke for each expired lease, once a read index
   * round confirmed it still leads (LeaseServer.revokeExpired, etcd-io/etcd#15247).
   */
  private leaseLoop(): void {
    if (!this.lessor.isPrimary || !this.isLeader) return;
    const expired = this.lessor.findExpired(LEASE_REVOKE_RATE / 2).filter((id) => !this.revoking.has(id));
    if (expired.length === 0) return;
    for (const id of expired) this.revoking.add(id);
    this.readWaiting.push({
      req: undefined,
      done: (o) => {
        if (!o.ok || !this.isLeader || !this.lessor.isPrimary) {
          for (const id of expired) this.revoking.delete(id);
          return;
        }
        for (const id of expired) this.propose({ ID: 0n, leaseRevoke: { ID: id } }, () => this.revoking.delete(id));
      },
    });
  }

  /** Steps queued work into raft (RaftNode.drainInbox: nothing is proposed while no leader is known). */
  private drain(): void {
    if (this.lead === 0n) return;
    if (this.proposals.length > 0) {
      const err = this.raw.proposeBatch(this.proposals.map((p) => p.data));
      if (err === undefined) this.proposals = [];
    }
    if (this.confChanges.length > 0) {
      const ccs = this.confChanges;
      this.confChanges = [];
      for (const cc of ccs) this.raw.proposeConfChange(cc);
    }
    if (this.round === undefined && this.readWaiting.length > 0) this.startRound();
  }

  /** Whether a turn would do anything. */
  hasWork(): boolean {
    return this.raw.hasReady() || (this.lead !== 0n && (this.proposals.length > 0 || this.confChanges.length > 0 || (this.round === undefined && this.readWaiting.length > 0)));
  }

  /** One turn of the host loop: drain, then handle one Ready. Returns whether it acted. */
  turn(): boolean {
    this.drain();
    if (!this.raw.hasReady()) return false;
    const rd = this.raw.ready();
    const crashAt = this.crashPoint;
    if (rd.hardState !== undefined) {
      this.term = rd.hardState.term;
      this.committedIndex = rd.hardState.commit;
    }
    if (rd.softState !== undefined) {
      this.lead = rd.softState.lead;
      this.role = rd.softState.raftState;
      this.onSoftState();
    }
    if (rd.readStates.length > 0) this.onReadStates(rd.readStates);
    const leader = this.isLeader;
    // A leader sends before it persists (Raft thesis §10.2.1); responses are stepped next turn.
    if (leader) for (const m of rd.messages) this.send(m);
    if (crashAt === 'before-persist') {
      this.crash(crashAt);
      return true;
    }
    const snap = rd.snapshot;
    const hasSnap = snap !== undefined && snap.metadata.index > 0;
    if (hasSnap) this.disk.applySnapshot(snap);
    if (rd.hardState !== undefined) this.disk.hardState = rd.hardState;
    if (rd.entries.length > 0) this.disk.append(rd.entries);
    if (crashAt === 'after-persist') {
      this.crash(crashAt);
      return true;
    }
    if (hasSnap) {
      const err = this.mem.applySnapshot(snap);
      if (err !== undefined) this.env.fail(`member ${this.id}: MemoryStorage refused snapshot ${snap.metadata.index}: ${err}`);
      this.installSnapshot(snap);
      this.confState = snap.metadata.confState;
      this.snapshotIndex = snap.metadata.index;
      this.appliedIndex = snap.metadata.index;
      this.onAppliedIndex();
    }
    if (rd.hardState !== undefined) this.mem.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.mem.append(rd.entries);
    if (!leader) for (const m of rd.messages) this.send(m);
    const ents = rd.committedEntries;
    if (ents.length > 0) {
      if (!this.applyEntries(ents, crashAt === 'mid-apply')) return true;
      if (this.life !== 'up') return true;
      this.appliedIndex = ents[ents.length - 1]!.index;
      this.onAppliedIndex();
      if (crashAt === 'after-apply') {
        this.crash(crashAt);
        return true;
      }
      if (this.appliedIndex - this.snapshotIndex > this.cfg.snapshotCount) this.takeSnapshot();
    }
    this.raw.advance();
    if (crashAt !== undefined) this.crash(`${crashAt} (after advance)`);
    return true;
  }

  private send(m: Message): void {
    if (m.type === MessageType.MsgSnap) {
      // EtcdServer.sendSnapshotMessage: the committed backend goes with raft's snapshot.
      this.backend.commitNow();
      let metadata = m.snapshot!.metadata;
      if (this.cfg.mergedSnapshots) {
        const term = this.mem.term(this.appliedIndex);
        if (typeof term === 'number') metadata = { index: this.appliedIndex, term, confState: this.confState };
      }
      m = { ...m, snapshot: { metadata, data: this.backend.image() } };
    }
    this.env.send(this, m);
  }

  private onSoftState(): void {
    if (!this.isLeader) {
      // LeaseServer.onNotLeader.
      this.leaseServer.onNotLeader();
      this.revoking.clear();
    }
    // A read round still waiting for its index will not get it from a leader that is gone.
    if (this.prevLead !== 0n && this.lead !== this.prevLead && this.round !== undefined && this.round.index < 0) {
      this.finishRound(rpcError('leader-changed'));
    }
    this.prevLead = this.lead;
  }

  // ---- read index rounds (ReadIndexBatcher)

  private startRound(): void {
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, this.reqIds.next());
    this.round = { ctx, waiters: this.readWaiting, index: -1, deadline: this.env.tick() + REQUEST_TIMEOUT_TICKS };
    this.readWaiting = [];
    this.raw.readIndex(ctx);
  }

  private onReadStates(states: readonly ReadState[]): void {
    const round = this.round;
    if (round === undefined) return;
    for (const rs of states) {
      if (round.index < 0 && sameBytes(rs.requestCtx, round.ctx)) round.index = rs.index;
    }
    this.onAppliedIndex();
  }

  private onAppliedIndex(): void {
    const round = this.round;
    if (round !== undefined && round.index >= 0 && this.appliedIndex >= round.index) this.finishRound(undefined);
  }

  private finishRound(err: RpcError | undefined): void {
    const round = this.round!;
    this.round = undefined;
    for (const w of round.waiters) {
      if (err !== undefined) {
        w.done({ ok: false, err });
        continue;
      }
      if (w.req === undefined) {
        w.done({ ok: true, resp: undefined });
        continue;
      }
      const r = applyRange(this.kv, w.req);
      w.done('err' in r ? { ok: false, err: r.err } : { ok: true, resp: r.resp });
    }
  }

  // ---- snapshots

  /** snapshot-install.ts installSnapshot, over the backend image the MsgSnap brought. */
  private installSnapshot(snap: Snapshot): void {
    const index = snap.metadata.index;
    if (snap.data.length === 0) this.env.fail(`member ${this.id}: snapshot ${index} arrived without a backend`);
    // Everything written so far goes to the old file, which the new one replaces.
    this.backend.close();
    this.replaceBackendFile(snap.data);
    const backend = new MemoryBackend(this.backendFile);
    const ci = backend.consistentIndex();
    if (ci < index) this.env.fail(`member ${this.id}: the backend received with the snapshot at ${index} reflects only ${ci}`);
    this.backend = backend;
    this.lessor.recover(backend.asBackend());
    this.kv = KvStore.open(backend.asBackend(), { lessor: this.lessor });
    this.membership = new MembershipStore(backend.asBackend());
    this.alarms = new AlarmStore(backend.asBackend());
    this.consistentIndex = ci;
    this.snapshotsInstalled++;
    this.env.event(`${this.id} installed snapshot ${snap.metadata.term}/${index} (backend at ${ci})`);
  }

  private replaceBackendFile(image: Uint8Array): void {
    const incoming = MemoryBackend.fromImage(image).file;
    this.backendFile.buckets.clear();
    for (const [name, b] of incoming.buckets) this.backendFile.buckets.set(name, b);
  }

  /** RaftNode.snapshot: the backend made durable, then a raft snapshot, WAL release and log compaction. */
  private takeSnapshot(): void {
    const snapi = this.appliedIndex;
    this.backend.commitNow();
    const snap = this.mem.createSnapshot(snapi, this.confState, new Uint8Array(0));
    if (isStorageError(snap)) {
      if (snap === 'snapshot-out-of-date') return;
      this.env.fail(`member ${this.id}: failed to create snapshot at ${snapi}: ${snap}`);
    }
    this.disk.saveSnapshot(snap);
    this.disk.compact(snapi);
    this.snapshotIndex = snapi;
    this.snapshotsTaken++;
    const compacti = snapi > this.cfg.catchUpEntries ? snapi - this.cfg.catchUpEntries : 1;
    const err = this.mem.compact(compacti);
    if (err !== undefined && err !== 'compacted') this.env.fail(`member ${this.id}: failed to compact raft log at ${compacti}: ${err}`);
  }

  // ---- apply (EtcdServer.applyEntries)

  /**
   * Applies `entries` in order, then records the consistent index in the open batch (EtcdServer's
   * applyEntries); returns false when a planned crash struck midway.
   */
  private applyEntries(entries: readonly Entry[], crashMidway: boolean): boolean {
    const stopAt = crashMidway ? this.cfgRand(entries.length + 1) : -1;
    for (let k = 0; k < entries.length; k++) {
      if (k === stopAt) {
        this.crash(`mid-apply after ${k} of ${entries.length} entries`);
        return false;
      }
      const e = entries[k]!;
      if (e.index !== this.appliedIndexInBatch(k, entries)) this.env.fail(`member ${this.id} applies ${e.index} out of order`);
      switch (e.type) {
        case EntryType.EntryNormal:
          this.applyEntryNormal(e);
          break;
        case EntryType.EntryConfChange:
          this.applyConfChange(unmarshalConfChange(e.data), e.index);
          break;
        case EntryType.EntryConfChangeV2:
          this.confState = this.raw.applyConfChange(unmarshalConfChangeV2(e.data));
          break;
      }
      if (this.life !== 'up') return false;
    }
    const last = entries[entries.length - 1]!.index;
    if (last > this.consistentIndex) {
      this.backend.setConsistentIndex(last);
      this.consistentIndex = last;
    }
    // CommitScheduler: the batch commits now or with later ones (the WAL holds the entries).
    if (this.planCommit()) this.backend.commitNow();
    return true;
  }

  private appliedIndexInBatch(k: number, entries: readonly Entry[]): number {
    return (k === 0 ? this.appliedIndex : entries[k - 1]!.index) + 1;
  }

  private planCommit(): boolean {
    return this.cfgRand(1000) < this.cfg.commitChance * 1000;
  }

  /** Draws from the member's own seeded stream (its raft's Rand is raft's alone). */
  private cfgRand(n: number): number {
    return this.draws.intn(n);
  }

  private applyEntryNormal(e: Entry): void {
    // Entries the backend already reflects were applied before a restart or came with a snapshot.
    if (e.index <= this.consistentIndex) return;
    if (e.data.length === 0) {
      // A new leader's empty entry: every earlier entry is applied, the lessor may count down.
      if (this.isLeader) {
        this.leaseServer.onLeaderReady(ELECTION_TICKS * TICK_MS);
        if (this.membership.clusterVersion === undefined) this.updateClusterVersion();
      }
      return;
    }
    const r = pb.InternalRaftRequest.decode(e.data);
    if (r.v2 !== undefined) {
      const applied = this.applier.applyV2(r.v2);
      this.trigger(r.v2.ID ?? r.ID, applied);
      return;
    }
    const id = r.ID !== 0n ? r.ID : (r.header?.ID ?? 0n);
    // A range nobody waits for has no effect (etcd's noSideEffect).
    if (r.range !== undefined && !this.waiters.has(id)) return;
    const before = this.kv.currentRev;
    const res = this.applier.apply(r);
    const after = this.kv.currentRev;
    if (after < before) this.env.fail(`member ${this.id}: revision went back from ${before} to ${after} at ${e.index}`);
    if (r.leaseRevoke !== undefined && res.err === undefined) this.env.onLeaseRevoked(r.leaseRevoke.ID);
    this.env.onApplied(this, e, after);
    this.trigger(id, res);
  }

  private updateClusterVersion(): void {
    if (this.versionProposing) return;
    this.versionProposing = true;
    this.proposeV2({ Method: 'PUT', Path: CLUSTER_VERSION_PATH, Val: CLUSTER_VERSION }, () => {
      this.versionProposing = false;
    });
  }

  private trigger(id: bigint, res: ApplyResult): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w.done(res.err !== undefined ? { ok: false, err: res.err } : { ok: true, resp: res.resp });
  }

  private applyConfChange(cc: ConfChange, index: number): void {
    if (index <= this.consistentIndex) {
      // Replayed: raft must see it again; the backend's membership has it already.
      this.confState = this.raw.applyConfChange(cc);
      return;
    }
    const err = this.validateConfChange(cc);
    if (err !== undefined) {
      this.trigger(cc.id, { err });
      return;
    }
    this.confState = this.raw.applyConfChange(cc);
    switch (cc.type) {
      case ConfChangeType.ConfChangeAddNode:
      case ConfChangeType.ConfChangeAddLearnerNode: {
        const { member, isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
        if (member.id !== cc.nodeId) this.env.fail(`conf change for ${cc.nodeId} carries member ${member.id}`);
        if (isPromote) this.membership.promote(member.id);
        else this.membership.add(member);
        break;
      }
      case ConfChangeType.ConfChangeRemoveNode:
        this.membership.remove(cc.nodeId);
        break;
    }
    this.trigger(cc.id, { resp: this.membership.members() });
  }

  /** EtcdServer.validateConfChange. */
  private validateConfChange(cc: ConfChange): RpcError | undefined {
    if (this.membership.isRemoved(cc.nodeId)) return rpcError('member-not-found');
    const exists = this.membership.member(cc.nodeId) !== undefined;
    if (cc.type === ConfChangeType.ConfChangeAddNode || cc.type === ConfChangeType.ConfChangeAddLearnerNode) {
      const { isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
      if (isPromote) return exists ? undefined : rpcError('member-not-found');
      return exists ? rpcError('member-exist') : undefined;
    }
    return exists ? undefined : rpcError('member-not-found');
  }

  /** Whether this member was removed from the membership it applied. */
  removedSelf(): boolean {
    return this.membership.isRemoved(this.id);
  }

  /**
   * A digest of everything a client can read: every key at the current revision with value,
   * create/mod revision, version and lease, the current and compact revisions, HashKV over the
   * kept history, and the leases.
   */
  contentHash(): string {
    const rr = this.kv.range(new Uint8Array([0]), new Uint8Array([0]));
    if (!rr.ok) this.env.fail(`member ${this.id}: full range failed: ${rr.code}`);
    let h = 2166136261;
    const mix = (s: string): void => {
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    };
    for (const kv of rr.kvs) {
      mix(Buffer.from(kv.key).toString('latin1'));
      mix(`\0${Buffer.from(kv.value).toString('latin1')}\0${kv.createRevision}/${kv.modRevision}/${kv.version}/${kv.lease}`);
    }
    const hk = this.kv.hashByRev(0);
    const leases = this.lessor
      .leases()
      .map((l) => `${l.id}:${l.ttl}`)
      .sort()
      .join(',');
    return `keys=${rr.kvs.length} rev=${this.kv.currentRev} compact=${this.kv.compactRev} kv=${(h >>> 0).toString(16)} hashkv=${hk.ok ? hk.hash.toString(16) : hk.code} leases=[${leases}] members=${this.membership
      .members()
      .map((m) => `${m.id}${m.isLearner ? 'L' : ''}`)
      .join(',')}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
