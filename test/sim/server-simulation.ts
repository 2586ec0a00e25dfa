/**
 * A seeded cluster of simulated etcd-ts members (ServerMember: the server's host loop and apply
 * path over the real raft, MVCC store and lessor) on the simulated network, driven by clients
 * that put, delete, run txns, grant/revoke/keep alive leases and read linearizably through any
 * member, through one of issue 4's scenarios:
 * - `leader-crash`: the leader crashes under write load, twice; a new leader must be agreed
 *   within LEADER_BOUND ticks;
 * - `minority-partition`: a minority (often holding the leader) is cut off; it must acknowledge no
 *   read or write invoked meanwhile and give up leadership, while the majority elects a leader and
 *   acknowledges writes;
 * - `member-down-snapshot`: a follower is down while the leader snapshots and compacts past it; it
 *   must come back through a snapshot;
 * - `membership-change`: learners added, caught up and promoted, voters added and removed (the
 *   leader too) under load.
 * Then every fault heals, every member must converge to the same applied index and the same
 * content, and ClientHistory checks what the clients saw. A virtual clock, no timers, no sockets:
 * the seed decides everything, so a failure replays exactly (SIM_SEED).
 */
import * as pb from '../../src/api/gen/etcdserverpb.js';
import { ConfChangeType, MessageType, type Entry, type Message } from '../../src/api/raftpb/types.js';
import { ManualClock } from '../../src/pkg/clock.js';
import { seededRand, type Rand } from '../../src/pkg/rand.js';
import { isLearnerInSync, mayAddMember, mayPromoteMember, mayRemoveMember } from '../../src/server/cluster-reconfig.js';
import type { RpcError } from '../../src/api/rpctypes/index.js';
import { memberToJson, type Member } from '../../src/server/member.js';
import { ClientHistory } from './client-history.js';
import { DurableLogError } from './durable-store.js';
import { CRASH_POINTS, ELECTION_TICKS, ServerMember, TICK_MS, type MemberConfig, type MemberEnv, type Outcome } from './server-member.js';
import { RELIABLE, SimNetwork, type InFlight, type NetworkFaults } from './sim-network.js';

/** The scenarios of issue 4. */
export const SCENARIOS = ['leader-crash', 'minority-partition', 'member-down-snapshot', 'membership-change'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Ticks allowed from losing the leader to a leader every live member follows. */
export const LEADER_BOUND = 6 * ELECTION_TICKS;
/** Ticks allowed after healing for every member to apply the same index. */
const CONVERGE_BOUND = 60 * ELECTION_TICKS;
const KEYS = 24;
const TRACE_KEEP = 80;
const enc = new TextEncoder();
const LEASE_ID_MASK = (1n << 63n) - 1n;

/** Parameters of one run. */
export interface ServerSimOptions {
  seed: number;
  nodes: number;
  scenario: Scenario;
  trace?: boolean;
  /** Send raft's stored snapshot metadata with a MsgSnap, as EtcdServer does today (see MemberConfig). */
  storedSnapshotMetadata?: boolean;
}

/** What a run did. */
export interface ServerSimReport {
  seed: number;
  nodes: number;
  scenario: Scenario;
  ticks: number;
  writesAcked: number;
  readsAnswered: number;
  readsChecked: number;
  failedOps: number;
  leaseGrants: number;
  leaseRevokes: number;
  /** Worst ticks from losing a leader to an agreed new one. */
  maxElectionTicks: number;
  crashes: number;
  snapshotsInstalled: number;
  snapshotsTaken: number;
  confChanges: number;
  finalRevision: number;
  appliedIndex: number;
}

/** A failed run; the message holds the seed, the replay hint and the last events. */
export class ServerSimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(message);
    this.name = 'ServerSimFailure';
  }
}

/** Scenario and size of a seed in the standard mix. */
export function planForSeed(seed: number): { nodes: number; scenario: Scenario } {
  return { scenario: SCENARIOS[seed % SCENARIOS.length]!, nodes: Math.floor(seed / SCENARIOS.length) % 2 === 0 ? 3 : 5 };
}

/** One simulated cluster run. */
export class ServerSimulation implements MemberEnv {
  readonly clock = new ManualClock(1_700_000_000_000);
  private readonly rand: Rand;
  private readonly net: SimNetwork;
  private readonly members = new Map<bigint, ServerMember>();
  private readonly founders: Member[] = [];
  private readonly cfg: MemberConfig;
  private readonly history: ClientHistory;
  private readonly loadFaults: NetworkFaults;
  private now = 0;
  private nextMemberId: bigint;
  private readonly trace: string[] = [];
  private seq = 0;
  /** Revision each applied index produced, from the first member that applied it. */
  private readonly revAt = new Map<number, number>();
  /** Load: expected client ops per tick. */
  private opsPerTick = 1.5;
  /** While set, ops invoked on these members must not be acknowledged. */
  private fenced: { ids: Set<bigint>; since: number } | undefined;
  private readonly liveLeases: bigint[] = [];
  /** While set, followers crash at random points and restart (never more than a minority down). */
  private chaos = false;
  /** A member the scenario keeps down (chaos does not restart it). */
  private keptDown: ServerMember | undefined;
  private readonly report: ServerSimReport;

  constructor(private readonly opts: ServerSimOptions) {
    this.rand = seededRand(opts.seed * 2246822519 + 7);
    this.net = new SimNetwork(this.rand);
    this.history = new ClientHistory((m) => this.fail(m));
    this.cfg = {
      seed: opts.seed,
      snapshotCount: [20, 40, 100][this.rand.intn(3)]!,
      catchUpEntries: [5, 10, 30][this.rand.intn(3)]!,
      commitChance: [0.2, 0.5, 1][this.rand.intn(3)]!,
      maxSizePerMsg: [1024, 1 << 20][this.rand.intn(2)]!,
      maxInflight: [4, 256][this.rand.intn(2)]!,
      mergedSnapshots: opts.storedSnapshotMetadata !== true,
    };
    this.loadFaults = {
      drop: [0, 0, 0.01, 0.03][this.rand.intn(4)]!,
      duplicate: [0, 0.02][this.rand.intn(2)]!,
      delay: [0, 0.2, 0.5][this.rand.intn(3)]!,
      maxDelay: 1 + this.rand.intn(2),
      reorder: this.rand.intn(2) === 0,
    };
    for (let i = 1; i <= opts.nodes; i++) this.founders.push(ServerMember.describe(BigInt(i)));
    this.nextMemberId = BigInt(opts.nodes + 1);
    this.report = {
      seed: opts.seed,
      nodes: opts.nodes,
      scenario: opts.scenario,
      ticks: 0,
      writesAcked: 0,
      readsAnswered: 0,
      readsChecked: 0,
      failedOps: 0,
      leaseGrants: 0,
      leaseRevokes: 0,
      maxElectionTicks: 0,
      crashes: 0,
      snapshotsInstalled: 0,
      snapshotsTaken: 0,
      confChanges: 0,
      finalRevision: 0,
      appliedIndex: 0,
    };
    for (const m of this.founders) {
      const sm = new ServerMember(m.id, true, this.founders, this.cfg, this);
      this.members.set(m.id, sm);
      sm.boot();
    }
  }

  // ---- MemberEnv

  tick(): number {
    return this.now;
  }

  event(s: string): void {
    const line = `t=${this.now} ${s}`;
    if (this.opts.trace) console.log(line);
    this.trace.push(line);
    if (this.trace.length > TRACE_KEEP * 2) this.trace.splice(0, this.trace.length - TRACE_KEEP);
  }

  fail(msg: string): never {
    const c = this.cfg;
    const setup = `nodes=${this.opts.nodes} scenario=${this.opts.scenario} snapshotCount=${c.snapshotCount} catchUp=${c.catchUpEntries} commitChance=${c.commitChance} maxSizePerMsg=${c.maxSizePerMsg} maxInflight=${c.maxInflight} faults=${JSON.stringify(this.loadFaults)}`;
    const recent = this.trace.slice(-TRACE_KEEP).join('\n  ');
    throw new ServerSimFailure(this.opts.seed, `seed ${this.opts.seed} failed at tick ${this.now}: ${msg}\n(${setup})\nreplay: SIM_SEED=${this.opts.seed}\nlast events:\n  ${recent}`);
  }

  send(from: ServerMember, m: Message): void {
    const ok = this.net.send(m, this.now, from.incarnation);
    if (!ok && m.type === MessageType.MsgSnap) from.raw.reportSnapshot(m.to, false);
  }

  onLeaseRevoked(id: bigint): void {
    this.history.revoked.add(id);
  }

  onApplied(member: ServerMember, e: Entry, rev: number): void {
    const prev = this.revAt.get(e.index);
    if (prev === undefined) this.revAt.set(e.index, rev);
    else if (prev !== rev) this.fail(`member ${member.id} reached revision ${rev} applying index ${e.index}, another member reached ${prev}`);
  }

  // ---- running

  /** Runs the scenario; throws ServerSimFailure on the first violation. */
  run(): ServerSimReport {
    try {
      this.awaitLeader('start');
      this.load(40);
      switch (this.opts.scenario) {
        case 'leader-crash':
          this.leaderCrash();
          break;
        case 'minority-partition':
          this.minorityPartition();
          break;
        case 'member-down-snapshot':
          this.memberDownSnapshot();
          break;
        case 'membership-change':
          this.membershipChange();
          break;
      }
      this.healAndConverge();
    } catch (e) {
      if (e instanceof ServerSimFailure) throw e;
      if (e instanceof DurableLogError) this.fail(e.message);
      this.fail(`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    const r = this.report;
    r.ticks = this.now;
    r.writesAcked = this.history.writes.length;
    r.readsAnswered = this.history.reads.length;
    r.failedOps = this.history.failed;
    r.leaseGrants = this.history.grants.size;
    r.leaseRevokes = this.history.revoked.size;
    for (const m of this.members.values()) {
      r.snapshotsInstalled += m.snapshotsInstalled;
      r.snapshotsTaken += m.snapshotsTaken;
      r.crashes += m.incarnation;
    }
    return r;
  }

  private upMembers(): ServerMember[] {
    const out: ServerMember[] = [];
    for (const m of this.members.values()) if (m.life === 'up') out.push(m);
    return out;
  }

  /** The live member acting as leader in the highest term. */
  private leader(): ServerMember | undefined {
    let best: ServerMember | undefined;
    for (const m of this.members.values()) if (m.life === 'up' && m.isLeader && (best === undefined || m.term > best.term)) best = m;
    return best;
  }

  /** Members in the leader's (or, without one, any up member's) applied membership that have not left. */
  private clusterMembers(): ServerMember[] {
    const ref = this.leader() ?? this.upMembers()[0];
    if (ref === undefined) return [];
    const out: ServerMember[] = [];
    for (const mm of ref.membership.members()) {
      const m = this.members.get(mm.id);
      if (m !== undefined && m.life !== 'gone') out.push(m);
    }
    return out;
  }

  /** The leader every live member of `group` (default: the cluster) follows, if any. */
  private agreedLeader(group?: ServerMember[]): ServerMember | undefined {
    const ldr = this.leader();
    const within = group ?? this.clusterMembers();
    const candidates = within.filter((m) => m.life === 'up' && m.isLeader);
    const l = group === undefined ? ldr : candidates.sort((a, b) => b.term - a.term)[0];
    if (l === undefined) return undefined;
    for (const m of within) if (m.life === 'up' && (m.lead !== l.id || m.term !== l.term)) return undefined;
    return l;
  }

  private step(): void {
    this.now++;
    this.clock.advance(TICK_MS);
    for (const m of this.members.values()) if (m.life === 'up') m.tick();
    this.settle();
  }

  private deliver(d: InFlight): void {
    const m = d.m;
    const to = this.members.get(m.to);
    const from = this.members.get(m.from);
    const senderSame = from !== undefined && from.life === 'up' && from.incarnation === d.senderIncarnation;
    if (to === undefined || to.life !== 'up' || from === undefined || from.life === 'gone' || this.net.cut(m.from, m.to)) {
      this.net.counts.dropped++;
      if (senderSame && m.type === MessageType.MsgSnap) from.raw.reportSnapshot(m.to, false);
      if (senderSame && this.net.cut(m.from, m.to) && this.rand.intn(4) === 0) from.raw.reportUnreachable(m.to);
      return;
    }
    if (to.membership.isRemoved(m.from)) {
      // The peer transport refuses a removed member, which then stops (PeerLink.refusedAsRemoved).
      this.net.counts.dropped++;
      if (from.life === 'up') from.stopRemoved();
      return;
    }
    to.raw.step(m);
    if (senderSame && m.type === MessageType.MsgSnap) from.raw.reportSnapshot(m.to, true);
  }

  private settle(): void {
    for (let round = 0; round < 100; round++) {
      let acted = false;
      for (const d of this.net.takeDue(this.now)) {
        this.deliver(d);
        acted = true;
      }
      const up = this.upMembers();
      const start = up.length > 0 ? this.rand.intn(up.length) : 0;
      for (let k = 0; k < up.length; k++) {
        const m = up[(start + k) % up.length]!;
        if (m.life === 'up' && m.hasWork()) {
          if (m.turn()) acted = true;
          // A member that applied its own removal stops (EtcdServer.onRemoved).
          if (m.life === 'up' && m.removedSelf()) m.beginStop(this.activeSince);
        }
      }
      if (!acted) return;
    }
  }

  /** Runs `ticks` ticks with client load. */
  private load(ticks: number): void {
    for (let t = 0; t < ticks; t++) {
      this.clientOps();
      if (this.chaos) this.randomCrashes();
      this.step();
    }
  }

  /** Crashes a follower now and then (at a random point of its Ready handling) and restarts crashed ones. */
  private randomCrashes(): void {
    const r = this.rand;
    const members = this.clusterMembers();
    const down = members.filter((m) => m.life === 'down');
    const failing = members.filter((m) => m.life === 'down' || m.crashPoint !== undefined).length;
    if (r.float() < 0.006 && (failing + 1) * 2 < members.length) {
      const candidates = members.filter((m) => m.life === 'up' && !m.isLeader && m.crashPoint === undefined);
      if (candidates.length > 0) {
        const m = candidates[r.intn(candidates.length)]!;
        if (r.intn(2) === 0) m.crash('follower, between turns');
        else m.crashPoint = CRASH_POINTS[r.intn(CRASH_POINTS.length)]!;
      }
    }
    for (const m of down) {
      if (m !== this.keptDown && this.now - m.downSince >= 10 && r.float() < 0.05) {
        this.event(`restart ${m.id}`);
        m.boot();
      }
    }
  }

  /** Waits for an agreed leader within LEADER_BOUND ticks (with load if `withLoad`). */
  private awaitLeader(why: string, withLoad = false, group?: ServerMember[]): ServerMember {
    const from = this.now;
    for (;;) {
      const l = this.agreedLeader(group);
      if (l !== undefined) {
        const took = this.now - from;
        if (why !== 'start' && took > this.report.maxElectionTicks) this.report.maxElectionTicks = took;
        this.event(`leader ${l.id} (term ${l.term}) agreed ${took} ticks after ${why}`);
        return l;
      }
      if (this.now - from > (why === 'start' ? 3 * LEADER_BOUND : LEADER_BOUND)) this.fail(`no agreed leader ${this.now - from} ticks after ${why}`);
      if (withLoad) this.clientOps();
      this.step();
    }
  }

  // ---- clients

  private pickKey(): Uint8Array {
    return enc.encode(`k/${this.rand.intn(KEYS).toString().padStart(2, '0')}`);
  }

  /** Issues this tick's client requests to random up members. */
  private clientOps(): void {
    let n = Math.floor(this.opsPerTick) + (this.rand.float() < this.opsPerTick % 1 ? 1 : 0);
    const up = this.upMembers();
    if (up.length === 0) return;
    while (n-- > 0) this.clientOp(up[this.rand.intn(up.length)]!);
    // Keep-alives go to the leader (a follower forwards them there).
    const l = this.leader();
    if (l !== undefined && this.liveLeases.length > 0 && this.rand.float() < 0.3) {
      l.renewLease(this.liveLeases[this.rand.intn(this.liveLeases.length)]!);
    }
  }

  private clientOp(m: ServerMember): void {
    if (!m.ready) return;
    const invokedAt = this.now;
    const minRev = this.history.maxAckedRev;
    const fencedAtInvoke = this.fenced !== undefined && this.fenced.ids.has(m.id);
    const guard = (what: string): boolean => {
      if (fencedAtInvoke && this.fenced !== undefined && this.fenced.ids.has(m.id)) {
        this.fail(`member ${m.id}, cut off with a minority since tick ${this.fenced.since}, acknowledged ${what} invoked at tick ${invokedAt}`);
      }
      return true;
    };
    const failed = (o: Outcome): o is Extract<Outcome, { ok: false }> => {
      if (o.ok) return false;
      this.history.failed++;
      return true;
    };
    const r = this.rand.float();
    if (r < 0.45) {
      const key = this.pickKey();
      const value = enc.encode(`v${this.seq++}`);
      const lease = this.liveLeases.length > 0 && this.rand.float() < 0.2 ? this.liveLeases[this.rand.intn(this.liveLeases.length)]! : 0n;
      m.propose({ ID: 0n, put: pb.createPutRequest({ key, value, lease }) }, (o) => {
        if (failed(o)) return;
        guard('a put');
        const resp = o.resp as pb.PutResponse;
        this.history.ackWrite({ what: `put ${key.toString()}`, rev: resp.header!.revision, puts: [{ key, value, lease }], deletes: [], member: m.id, tick: this.now }, minRev, true);
      });
    } else if (r < 0.52) {
      const key = this.pickKey();
      m.propose({ ID: 0n, deleteRange: pb.createDeleteRangeRequest({ key }) }, (o) => {
        if (failed(o)) return;
        guard('a delete');
        const resp = o.resp as pb.DeleteRangeResponse;
        const changed = resp.deleted > 0;
        this.history.ackWrite({ what: 'delete', rev: resp.header!.revision, puts: [], deletes: changed ? [key] : [], member: m.id, tick: this.now }, minRev, changed);
      });
    } else if (r < 0.62) {
      // A compare-and-swap: write one key if another exists, else a third.
      const a = this.pickKey();
      const b = this.pickKey();
      const c = this.pickKey();
      const vb = enc.encode(`t${this.seq++}`);
      const vc = enc.encode(`f${this.seq++}`);
      const txn: pb.TxnRequest = {
        compare: [pb.createCompare({ key: a, target: pb.Compare_CompareTarget.VERSION, result: pb.Compare_CompareResult.GREATER, version: 0 })],
        success: [{ requestPut: pb.createPutRequest({ key: b, value: vb }) }, { requestRange: pb.createRangeRequest({ key: a }) }],
        failure: [{ requestPut: pb.createPutRequest({ key: c, value: vc }) }],
      };
      m.propose({ ID: 0n, txn }, (o) => {
        if (failed(o)) return;
        guard('a txn');
        const resp = o.resp as pb.TxnResponse;
        const put = resp.succeeded ? { key: b, value: vb, lease: 0n } : { key: c, value: vc, lease: 0n };
        this.history.ackWrite({ what: `txn (${resp.succeeded ? 'success' : 'failure'})`, rev: resp.header!.revision, puts: [put], deletes: [], member: m.id, tick: this.now }, minRev, true);
      });
    } else if (r < 0.9) {
      const prefix = this.rand.intn(4) === 0;
      const key = prefix ? enc.encode('k/') : this.pickKey();
      const rangeEnd = prefix ? enc.encode('k0') : new Uint8Array(0);
      m.linearizableRange(pb.createRangeRequest({ key, rangeEnd }), (o) => {
        if (failed(o)) return;
        guard('a linearizable read');
        const resp = o.resp as pb.RangeResponse;
        this.history.answerRead({ key, rangeEnd, rev: resp.header!.revision, kvs: resp.kvs, member: m.id, tick: this.now }, minRev);
      });
    } else if (r < 0.95) {
      // LeaseServer.leaseGrant: the ID comes from the member's request ID generator.
      let id = 0n;
      while (id === 0n) id = m.nextRequestId() & LEASE_ID_MASK;
      const ttl = 2 + this.rand.intn(6);
      m.propose({ ID: 0n, leaseGrant: { ID: id, TTL: ttl } }, (o) => {
        if (failed(o)) return;
        guard('a lease grant');
        this.history.grants.add(id);
        this.liveLeases.push(id);
        if (this.liveLeases.length > 8) this.liveLeases.shift();
      });
    } else if (r < 0.97) {
      if (this.liveLeases.length === 0) return;
      const id = this.liveLeases[this.rand.intn(this.liveLeases.length)]!;
      m.propose({ ID: 0n, leaseRevoke: { ID: id } }, (o) => {
        if (failed(o)) return;
        guard('a lease revoke');
      });
    } else if (r < 0.975) {
      // Compaction well behind the acknowledged writes, so most of them stay checkable.
      const rev = this.history.maxAckedRev - 150;
      if (rev <= 1) return;
      m.propose({ ID: 0n, compaction: { revision: rev, physical: false } }, (o) => {
        if (failed(o)) return;
        guard('a compaction');
      });
    }
  }

  // ---- scenarios

  private leaderCrash(): void {
    for (let round = 0; round < 2; round++) {
      this.chaos = true;
      this.load(20 + this.rand.intn(40));
      // The crash takes the leader from a whole cluster: a majority must remain.
      this.chaos = false;
      for (const m of this.clusterMembers()) {
        m.crashPoint = undefined;
        if (m.life === 'down') {
          this.event(`restart ${m.id} before the leader crash`);
          m.boot();
        }
      }
      this.load(5);
      const l = this.leader();
      if (l === undefined) {
        this.awaitLeader('no leader before the crash', true);
        continue;
      }
      if (this.rand.intn(2) === 0) {
        l.crash('leader, between turns');
      } else {
        // Strike inside its next Ready handling (it always has one under load).
        l.crashPoint = CRASH_POINTS[this.rand.intn(CRASH_POINTS.length)]!;
        this.event(`leader ${l.id} will crash at ${l.crashPoint}`);
        for (let t = 0; t < 5 && l.life === 'up'; t++) this.load(1);
        if (l.life === 'up') {
          l.crash('leader, planned crash did not strike');
        }
      }
      this.chaos = true;
      this.awaitLeader(`leader ${l.id} crashed`, true);
      this.load(10 + this.rand.intn(30));
      this.event(`restart ${l.id}`);
      l.boot();
    }
    this.load(30);
  }

  private minorityPartition(): void {
    const n = this.opts.nodes;
    const size = Math.floor((n - 1) / 2);
    const ids = [...this.members.keys()];
    const l = this.leader();
    const minority: bigint[] = [];
    if (l !== undefined && this.rand.intn(2) === 0) minority.push(l.id);
    while (minority.length < size) {
      const id = ids[this.rand.intn(ids.length)]!;
      if (!minority.includes(id)) minority.push(id);
    }
    const majority = ids.filter((id) => !minority.includes(id));
    this.event(`partition minority (${minority.join(' ')}) from majority (${majority.join(' ')})`);
    this.net.partition([minority, majority]);
    this.fenced = { ids: new Set(minority), since: this.now };
    const acksBefore = this.history.writes.length;
    const majorityMembers = majority.map((id) => this.members.get(id)!);
    this.awaitLeader('the partition', true, majorityMembers);
    const duration = 3 * ELECTION_TICKS + this.rand.intn(10 * ELECTION_TICKS);
    for (let t = 0; t < duration; t++) {
      this.load(1);
      // checkQuorum: a leader cut off from its quorum steps down within an election timeout or two.
      if (this.now - this.fenced.since > 3 * ELECTION_TICKS) {
        for (const id of minority) {
          const m = this.members.get(id)!;
          if (m.life === 'up' && m.isLeader) this.fail(`member ${id} still leads ${this.now - this.fenced.since} ticks into a minority partition`);
        }
      }
    }
    const majorityAcks = this.history.writes.slice(acksBefore).filter((w) => majority.includes(w.member)).length;
    if (majorityAcks === 0) this.fail(`the majority (${majority.join(' ')}) acknowledged no write during the partition`);
    this.event(`heal partition (${majorityAcks} writes acknowledged by the majority meanwhile)`);
    this.fenced = undefined;
    this.net.heal();
    this.load(30);
  }

  private memberDownSnapshot(): void {
    const l = this.leader();
    const followers = this.upMembers().filter((m) => m !== l);
    const victim = followers[this.rand.intn(followers.length)]!;
    victim.crash('taken down for the snapshot scenario');
    const installedBefore = victim.snapshotsInstalled;
    const downAt = this.now;
    const savedLoad = this.opsPerTick;
    this.opsPerTick = 3;
    // Many writes: until the leader compacted its log past where the victim stopped.
    for (;;) {
      this.load(10);
      const ldr = this.leader();
      const stoppedAt = victim.disk.lastIndex();
      if (ldr !== undefined && ldr.mem.firstIndex() > stoppedAt + 1 && this.now - downAt > 60) break;
      if (this.now - downAt > 3000) this.fail(`the leader never compacted its log past ${stoppedAt} while ${victim.id} was down`);
    }
    this.opsPerTick = savedLoad;
    this.event(`restart ${victim.id} after ${this.now - downAt} ticks down`);
    victim.boot();
    const from = this.now;
    const ldr0 = this.leader();
    while (victim.life === 'up' && (ldr0 === undefined || victim.appliedIndex < ldr0.appliedIndex)) {
      if (this.now - from > CONVERGE_BOUND) this.fail(`member ${victim.id} did not catch up within ${CONVERGE_BOUND} ticks`);
      this.load(1);
    }
    if (victim.snapshotsInstalled === installedBefore) this.fail(`member ${victim.id} caught up without a snapshot`);
    this.load(20);
  }

  private membershipChange(): void {
    this.chaos = true;
    const changes = 3 + this.rand.intn(3);
    for (let c = 0; c < changes; c++) {
      this.load(10 + this.rand.intn(30));
      const l = this.awaitLeader('before a membership change', true);
      const members = l.membership.members();
      const voters = members.filter((m) => !m.isLearner);
      const learner = members.find((m) => m.isLearner);
      const options: (() => void)[] = [];
      if (learner !== undefined) options.push(() => this.promote(learner));
      else options.push(() => this.addMember(true));
      if (voters.length < 6) options.push(() => this.addMember(false));
      if (voters.length > 3) options.push(() => this.removeMember(voters[this.rand.intn(voters.length)]!.id));
      options[this.rand.intn(options.length)]!();
    }
    this.load(30);
  }

  /** When each member's peers see it connected since (up members: their boot), for the strict reconfig checks. */
  private activeSince = (id: bigint): number | undefined => {
    const m = this.members.get(id);
    return m !== undefined && m.life === 'up' ? m.bootedAtMs : undefined;
  };

  /** --strict-reconfig-check as the leader's EtcdServer makes it; true when the change may go ahead. */
  private strictCheck(what: string, check: (members: Member[], self: bigint) => RpcError | undefined): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    const refused = check(l.membership.members(), l.id);
    if (refused !== undefined) this.event(`${what} refused: ${refused.message}`);
    return refused === undefined;
  }

  /** Proposes `cc` on the leader and runs with load until it is applied there (or fails). */
  private memberChange(cc: { type: ConfChangeType; nodeId: bigint; context: Uint8Array }, what: string): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    let outcome: Outcome | undefined;
    this.event(`propose ${what}`);
    l.proposeMemberChange({ id: 0n, ...cc }, (o) => {
      outcome = o;
    });
    while (outcome === undefined) this.load(1);
    this.event(`${what}: ${outcome.ok ? 'applied' : `failed (${String(outcome.err instanceof Error ? outcome.err.message : outcome.err)})`}`);
    if (outcome.ok) this.report.confChanges++;
    return outcome.ok;
  }

  private addMember(isLearner: boolean): void {
    if (!this.strictCheck(`add ${isLearner ? 'learner' : 'voter'}`, (ms, self) => mayAddMember(true, ms, isLearner, self, this.activeSince, this.clock.now()))) return;
    const id = this.nextMemberId++;
    const member = ServerMember.describe(id, isLearner);
    // The operator starts the new member (--initial-cluster-state existing) once MemberAdd returns.
    const sm = new ServerMember(id, false, this.founders, this.cfg, this);
    const ok = this.memberChange(
      { type: isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode, nodeId: id, context: enc.encode(memberToJson(member)) },
      `add ${isLearner ? 'learner' : 'voter'} ${id}`,
    );
    if (!ok) return;
    this.members.set(id, sm);
    sm.boot();
    if (!isLearner) this.awaitCaughtUp(sm);
  }

  private awaitCaughtUp(sm: ServerMember): void {
    const from = this.now;
    for (;;) {
      const l = this.leader();
      if (l !== undefined && sm.life === 'up' && sm.appliedIndex >= l.appliedIndex) return;
      if (this.now - from > CONVERGE_BOUND) this.fail(`new member ${sm.id} did not catch up within ${CONVERGE_BOUND} ticks`);
      this.load(1);
    }
  }

  /** MemberPromote: only once the leader sees the learner in sync (isLearnerInSync). */
  private promote(m: Member): void {
    const from = this.now;
    for (;;) {
      const l = this.leader();
      const st = l?.raw.status();
      const lm = st?.progress.get(l!.id)?.match;
      const mm = st?.progress.get(m.id)?.match ?? 0;
      if (l !== undefined && lm !== undefined && isLearnerInSync(lm, mm)) break;
      if (this.now - from > CONVERGE_BOUND) this.fail(`learner ${m.id} never got in sync with the leader`);
      this.load(1);
    }
    if (!this.strictCheck(`promote ${m.id}`, (ms) => mayPromoteMember(true, ms, m.id))) return;
    this.memberChange(
      { type: ConfChangeType.ConfChangeAddNode, nodeId: m.id, context: enc.encode(memberToJson({ ...m, isLearner: false }, true)) },
      `promote learner ${m.id}`,
    );
  }

  private removeMember(id: bigint): void {
    if (!this.strictCheck(`remove ${id}`, (ms, self) => mayRemoveMember(true, ms, id, self, this.activeSince, this.clock.now()))) return;
    const wasLeader = this.leader()?.id === id;
    const ok = this.memberChange({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: id, context: new Uint8Array(0) }, `remove ${id}${wasLeader ? ' (the leader)' : ''}`);
    if (ok && wasLeader) this.awaitLeader(`removing leader ${id}`, true);
  }

  // ---- healing and the final checks

  private healAndConverge(): void {
    this.net.heal();
    this.net.faults = RELIABLE;
    this.fenced = undefined;
    for (const m of this.members.values()) {
      m.crashPoint = undefined;
      if (m.life === 'down') {
        this.event(`restart ${m.id} (heal)`);
        m.boot();
      }
    }
    this.chaos = false;
    this.event('healed');
    this.awaitLeader('healing');
    const from = this.now;
    for (;;) {
      this.step();
      const l = this.agreedLeader();
      const members = this.clusterMembers();
      if (l !== undefined && this.net.pending() === 0 && l.appliedIndex === l.mem.lastIndex()) {
        const behind = members.filter((m) => m.life !== 'up' || m.appliedIndex !== l.appliedIndex || m.kv.pendingCompaction() !== undefined);
        if (behind.length === 0) break;
      }
      if (this.now - from > CONVERGE_BOUND) {
        const d = members.map((m) => `${m.id}:${m.life}@${m.appliedIndex}`).join(' ');
        this.fail(`members did not converge within ${CONVERGE_BOUND} ticks: ${d} (leader ${l?.id ?? 'none'} at ${l?.appliedIndex ?? '-'})`);
      }
    }
    this.checkFinal();
  }

  private checkFinal(): void {
    const members = this.clusterMembers();
    const ref = members[0]!;
    const refHash = ref.contentHash();
    for (const m of members) {
      m.backend.commitNow();
      const h = m.contentHash();
      if (h !== refHash) this.fail(`member ${m.id} at applied ${m.appliedIndex} differs from ${ref.id} at ${ref.appliedIndex}:\n  ${m.id}: ${h}\n  ${ref.id}: ${refHash}`);
      const bh = m.backend.hash();
      const rbh = ref.backend.hash();
      if (bh !== rbh) this.fail(`member ${m.id}'s backend hash ${bh} differs from ${ref.id}'s ${rbh} with the same content (${h})`);
      this.history.checkFinal(m.id, m.kv, m.lessor);
    }
    this.report.readsChecked = this.history.checkReads(ref.id, ref.kv);
    this.report.finalRevision = ref.kv.currentRev;
    this.report.appliedIndex = ref.appliedIndex;
    this.event(`converged: ${refHash}`);
  }
}
