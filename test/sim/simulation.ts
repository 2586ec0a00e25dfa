/**
 * A seeded multi-node raft simulation through the real RawNode. A virtual clock ticks every live
 * node; between ticks messages travel through a faulty network, nodes crash at random points of
 * their Ready handling (losing all that was not persisted) and restart from disk, the operator
 * changes the membership, and the safety checker watches every persist, election and apply.
 * After each period of chaos the faults heal and liveness is required: a leader within a bounded
 * number of ticks, then every proposal to it committed within a bounded number of ticks.
 * Everything derives from the seed, so a failure replays exactly.
 */
import { seededRand, type Rand } from '../../src/pkg/rand.js';
import {
  EntryType,
  MessageType,
  emptyConfState,
  type ConfState,
  type Entry,
  type Message,
} from '../../src/api/raftpb/types.js';
import { RawNode } from '../../src/raft/raw-node.js';
import { StateType } from '../../src/raft/ready.js';
import { unmarshalConfChange, unmarshalConfChangeV2 } from '../../src/raft/conf-change-codec.js';
import { DurableLogError } from './durable-store.js';
import { MembershipOperator } from './membership-operator.js';
import { EMPTY_HASH, SafetyChecker, SafetyViolation, chainHash } from './safety-checker.js';
import { CRASH_POINTS, SimNode, decodeSnapshotData, encodeSnapshotData } from './sim-node.js';
import { RELIABLE, SimNetwork, type InFlight, type NetworkFaults } from './sim-network.js';

/** Parameters of one simulated run; everything else is drawn from the seed. */
export interface SimOptions {
  seed: number;
  /** Initial voters: 3, 5 or 7. */
  nodes: number;
  /** Chaos-then-heal cycles. */
  cycles?: number;
  /** Ticks of chaos per cycle. */
  chaosTicks?: number;
  /** Proposals that must commit after each heal. */
  healProposals?: number;
  /** Print every event as it happens. */
  trace?: boolean;
}

/** What a run did, for the test's summary. */
export interface SimReport {
  seed: number;
  nodes: number;
  ticks: number;
  /** Worst ticks from heal to an agreed leader. */
  maxElectionTicks: number;
  /** Worst ticks from proposing to the leader to the leader applying. */
  maxCommitTicks: number;
  leaders: number;
  applied: number;
  crashes: number;
  confChanges: number;
  snapshots: number;
  reads: number;
}

/** A failed run: the message holds the seed, the replay hint and the last events. */
export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimFailure';
  }
}

const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 1;
/** Ticks allowed after healing for every member to follow one leader (Raft §5.2 with random timeouts). */
export const LEADER_BOUND = 20 * ELECTION_TICK;
/** Ticks allowed between proposing to a healthy leader and the leader applying the entry. */
export const COMMIT_BOUND = ELECTION_TICK;
/** Ticks allowed after the proposals for every member to apply the leader's log. */
const CONVERGE_BOUND = 30 * ELECTION_TICK;
const TRACE_KEEP = 60;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Node count of a seed in the standard mix: 3, 5 and 7 in turn. */
export function nodesForSeed(seed: number): number {
  return [3, 5, 7][seed % 3]!;
}

/** One simulated cluster. */
export class Simulation {
  private readonly rand: Rand;
  private readonly net: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly nodes = new Map<bigint, SimNode>();
  private readonly founders: bigint[] = [];
  private readonly operator: MembershipOperator;
  private now = 0;
  private readonly trace: string[] = [];
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxSizePerMsg: number;
  private readonly maxInflight: number;
  private readonly bootstrapWithEntries: boolean;
  private chaosFaults: NetworkFaults;
  /** The membership after the highest conf-change index applied anywhere. */
  private latestConf: { index: number; cs: ConfState } = { index: 0, cs: emptyConfState() };
  private readonly everMember = new Set<bigint>();
  /** Reads asked and not answered: ctx -> commit index known when asked. */
  private readonly reads = new Map<string, number>();
  private readSeq = 0;
  private propSeq = 0;
  /** Proposals made to a healthy leader after healing: payload -> tick proposed. */
  private readonly watched = new Map<string, number>();
  private readonly report: SimReport;

  constructor(private readonly opts: SimOptions) {
    const seed = opts.seed;
    this.rand = seededRand(seed * 2654435761 + 17);
    this.net = new SimNetwork(this.rand);
    this.preVote = this.rand.intn(3) !== 0;
    this.checkQuorum = this.rand.intn(3) !== 0;
    this.maxSizePerMsg = [256, 1024, 1 << 20][this.rand.intn(3)]!;
    this.maxInflight = [2, 16, 256][this.rand.intn(3)]!;
    this.bootstrapWithEntries = this.rand.intn(2) === 0;
    this.chaosFaults = this.randomFaults();
    const n = opts.nodes;
    this.operator = new MembershipOperator(this.rand, 3, Math.min(n + 2, 9), BigInt(n + 1));
    this.report = {
      seed,
      nodes: n,
      ticks: 0,
      maxElectionTicks: 0,
      maxCommitTicks: 0,
      leaders: 0,
      applied: 0,
      crashes: 0,
      confChanges: 0,
      snapshots: 0,
      reads: 0,
    };
    for (let i = 1; i <= n; i++) this.founders.push(BigInt(i));
    for (const id of this.founders) {
      const node = new SimNode(id, true);
      this.nodes.set(id, node);
      this.everMember.add(id);
      if (!this.bootstrapWithEntries) {
        // Start from a snapshot holding the initial membership, as a restored cluster would.
        node.disk.applySnapshot({
          data: new Uint8Array(0),
          metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: [...this.founders] } },
        });
      }
      this.start(node);
    }
  }

  private randomFaults(): NetworkFaults {
    return {
      drop: [0, 0.02, 0.1][this.rand.intn(3)]!,
      duplicate: [0, 0.02, 0.05][this.rand.intn(3)]!,
      delay: [0, 0.2, 0.5][this.rand.intn(3)]!,
      maxDelay: 1 + this.rand.intn(4),
      reorder: this.rand.intn(2) === 0,
    };
  }

  private event(s: string): void {
    const line = `t=${this.now} ${s}`;
    if (this.opts.trace) console.log(line);
    this.trace.push(line);
    if (this.trace.length > TRACE_KEEP * 2) this.trace.splice(0, this.trace.length - TRACE_KEEP);
  }

  private fail(msg: string): never {
    const o = this.opts;
    const setup = `nodes=${o.nodes} prevote=${this.preVote} checkquorum=${this.checkQuorum} maxSizePerMsg=${this.maxSizePerMsg} maxInflight=${this.maxInflight} bootstrap=${this.bootstrapWithEntries ? 'entries' : 'snapshot'}`;
    const recent = this.trace.slice(-TRACE_KEEP).join('\n  ');
    throw new SimFailure(o.seed, `seed ${o.seed} failed at tick ${this.now}: ${msg}\n(${setup})\nreplay: SIM_SEED=${o.seed}\nlast events:\n  ${recent}`);
  }

  /** Runs the whole scenario; throws SimFailure on the first violation. */
  run(): SimReport {
    try {
      const cycles = this.opts.cycles ?? 3;
      for (let c = 0; c < cycles; c++) {
        this.chaos(this.opts.chaosTicks ?? 300);
        this.healAndCheckLiveness();
      }
    } catch (e) {
      if (e instanceof SimFailure) throw e;
      if (e instanceof SafetyViolation || e instanceof DurableLogError) this.fail(e.message);
      this.fail(`raft threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    this.report.ticks = this.now;
    this.report.leaders = this.checker.counts.leaders;
    this.report.applied = this.checker.maxApplied;
    this.report.reads = this.checker.counts.reads;
    return this.report;
  }


  /** Boots `node` from its disk (a first start or a restart after a crash). */
  private start(node: SimNode): void {
    const disk = node.disk;
    this.checker.onRestart(node.id, disk, node.maxApplied);
    const mem = disk.load();
    let applied = 0;
    node.hash = EMPTY_HASH;
    node.confState = emptyConfState();
    if (disk.snapshot !== undefined) {
      const st = decodeSnapshotData(disk.snapshot.data, disk.snapshot.metadata.index);
      applied = st.index;
      node.hash = st.hash;
      node.confState = disk.snapshot.metadata.confState;
    }
    node.appliedIndex = applied;
    node.term = disk.hardState.term;
    node.role = StateType.StateFollower;
    node.lead = 0n;
    node.crashPoint = undefined;
    const raw = new RawNode({
      id: node.id,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      storage: mem,
      applied,
      maxSizePerMsg: this.maxSizePerMsg,
      maxInflightMsgs: this.maxInflight,
      checkQuorum: this.checkQuorum,
      preVote: this.preVote,
      rand: seededRand(this.opts.seed * 1000003 + Number(node.id) * 7919 + node.incarnation),
    });
    if (node.founder && this.bootstrapWithEntries && disk.lastIndex() === 0 && disk.snapshot === undefined) {
      raw.bootstrap(this.founders);
    }
    node.raw = raw;
    node.mem = mem;
    node.life = 'up';
  }

  private crash(node: SimNode, where: string): void {
    this.event(`crash ${node.id} (${where})`);
    node.raw = undefined;
    node.mem = undefined;
    node.life = 'down';
    node.incarnation++;
    node.downSince = this.now;
    node.crashPoint = undefined;
    this.report.crashes++;
  }

  /** The node leaves for good: it was removed from the committed membership. */
  private decommission(node: SimNode): void {
    if (node.life === 'gone') return;
    this.event(`decommission ${node.id}`);
    node.raw = undefined;
    node.mem = undefined;
    node.life = 'gone';
  }

  private upNodes(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.life === 'up') out.push(n);
    return out;
  }

  /** Members of the latest committed membership that have not left. */
  private members(): SimNode[] {
    const cs = this.latestConf.cs;
    const ids = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
    if (this.latestConf.index === 0) for (const id of this.founders) ids.add(id);
    const out: SimNode[] = [];
    for (const id of ids) {
      const n = this.nodes.get(id);
      if (n !== undefined && n.life !== 'gone') out.push(n);
    }
    return out;
  }

  /** The live node acting as leader in the highest term, if any. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.life === 'up' && n.role === StateType.StateLeader && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }


  /**
   * Handles one Ready: persist (snapshot, hard state, entries) → send → apply → advance, with the
   * planned crash, if any, striking at its point.
   */
  private processReady(node: SimNode): void {
    const raw = node.raw!;
    const mem = node.mem!;
    const rd = raw.ready();
    const crashAt = node.crashPoint;
    if (crashAt === 'before-persist') return this.crash(node, crashAt);

    // Persist, atomically, as one WAL write with fsync.
    if (rd.softState !== undefined) {
      node.role = rd.softState.raftState;
      node.lead = rd.softState.lead;
    }
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
      const s = rd.snapshot;
      node.disk.applySnapshot(s);
      const err = mem.applySnapshot(s);
      if (err !== undefined) this.fail(`node ${node.id}: MemoryStorage refused snapshot ${s.metadata.index}: ${err}`);
      const st = decodeSnapshotData(s.data, s.metadata.index);
      this.checker.onSnapshotRestore(node.id, s.metadata.index, st.hash);
      node.appliedIndex = s.metadata.index;
      node.hash = st.hash;
      node.confState = s.metadata.confState;
      if (node.appliedIndex > node.maxApplied) node.maxApplied = node.appliedIndex;
      this.event(`${node.id} restored snapshot ${s.metadata.term}/${s.metadata.index}`);
    }
    // The commit index on disk before this Ready: entries up to it must never be overwritten.
    const diskCommit = node.disk.hardState.commit;
    if (rd.hardState !== undefined) {
      const hs = rd.hardState;
      const old = node.disk.hardState;
      if (hs.term < old.term) this.fail(`node ${node.id} persisted term ${hs.term} after ${old.term}`);
      if (hs.term === old.term && old.vote !== 0n && hs.vote !== old.vote) {
        this.fail(`node ${node.id} changed its vote in term ${hs.term} from ${old.vote} to ${hs.vote}`);
      }
      if (hs.commit < old.commit) this.fail(`node ${node.id} persisted commit ${hs.commit} after ${old.commit}`);
      node.disk.hardState = hs;
      mem.setHardState(hs);
      node.term = hs.term;
      this.checker.onCommit(hs.commit);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const prevTerm = node.disk.term(first - 1);
      if (prevTerm === undefined && first - 1 >= node.disk.compactedIndex()) {
        this.fail(`node ${node.id} persisted entries from ${first} with its log ending at ${node.disk.lastIndex()}`);
      }
      if (prevTerm !== undefined) this.checker.onPersist(node.id, rd.entries, prevTerm);
      const truncated = node.disk.append(rd.entries);
      if (truncated > 0) this.checker.onTruncate(node.id, truncated, diskCommit);
      mem.append(rd.entries);
    }
    if (node.role === StateType.StateLeader) {
      this.checker.onLeader(node.id, node.term);
      this.checker.checkLeaderCompleteness(node.id, node.term, node.disk);
    }
    if (crashAt === 'after-persist') return this.crash(node, crashAt);

    // Send.
    const sendCrash = crashAt === 'mid-send' ? this.rand.intn(rd.messages.length + 1) : -1;
    for (let k = 0; k < rd.messages.length; k++) {
      if (k === sendCrash) return this.crash(node, `${crashAt} after ${k} messages`);
      this.send(node, rd.messages[k]!);
    }

    // Apply.
    const applyCrash = crashAt === 'mid-apply' ? this.rand.intn(rd.committedEntries.length + 1) : -1;
    for (let k = 0; k < rd.committedEntries.length; k++) {
      if (k === applyCrash) return this.crash(node, `${crashAt} after ${k} entries`);
      this.apply(node, rd.committedEntries[k]!);
      if (node.life !== 'up') return;
    }
    for (const rs of rd.readStates) {
      const key = dec.decode(rs.requestCtx);
      const required = this.reads.get(key);
      // A duplicated request may be answered twice: keep the entry.
      if (required === undefined) this.fail(`node ${node.id} got an answer to unknown read ${key}`);
      this.checker.onReadState(node.id, rs.index, required);
    }
    raw.advance();
    if (crashAt !== undefined) this.crash(node, `${crashAt} (after advance)`);
  }

  private send(node: SimNode, m: Message): void {
    // Only forwarded proposals and reads keep their original sender (etcd's stepFollower).
    if (m.from !== node.id && m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) {
      this.fail(`node ${node.id} sent a ${MessageType[m.type]} from ${m.from}`);
    }
    if (m.to === node.id) this.fail(`node ${node.id} sent a message to itself`);
    if (m.type === MessageType.MsgSnap) m = this.mergedSnapshot(node, m);
    const ok = this.net.send(m, this.now, node.incarnation);
    if (!ok && m.type === MessageType.MsgSnap) node.raw!.reportSnapshot(m.to, false);
  }

  /**
   * Replaces the snapshot raft chose with one of the sender's current applied state, as etcd's
   * server does (createMergedSnapshotMessage): the stored snapshot may predate the membership
   * that added the recipient, which would then refuse it.
   */
  private mergedSnapshot(node: SimNode, m: Message): Message {
    const i = node.appliedIndex;
    const term = node.mem!.term(i);
    if (typeof term === 'string' || i < m.snapshot!.metadata.index) return m;
    const snapshot = { data: encodeSnapshotData(i, node.hash), metadata: { index: i, term, confState: node.confState } };
    return { ...m, snapshot };
  }

  private apply(node: SimNode, e: Entry): void {
    if (e.index !== node.appliedIndex + 1) {
      this.fail(`node ${node.id} applied ${e.term}/${e.index} right after ${node.appliedIndex}`);
    }
    if (e.index > node.disk.hardState.commit) {
      this.fail(`node ${node.id} applied ${e.index} beyond its persisted commit ${node.disk.hardState.commit}`);
    }
    node.hash = chainHash(node.hash, e);
    node.appliedIndex = e.index;
    if (e.index > node.maxApplied) node.maxApplied = e.index;
    this.checker.onApply(node.id, e, node.hash, node.term);
    if (e.type === EntryType.EntryNormal) {
      if (e.data.length > 0 && node.role === StateType.StateLeader) {
        const key = dec.decode(e.data);
        const at = this.watched.get(key);
        if (at !== undefined) {
          this.watched.delete(key);
          const took = this.now - at;
          if (took > this.report.maxCommitTicks) this.report.maxCommitTicks = took;
        }
      }
      return;
    }
    const cc = e.type === EntryType.EntryConfChange ? unmarshalConfChange(e.data) : unmarshalConfChangeV2(e.data);
    const cs = node.raw!.applyConfChange(cc);
    node.confState = cs;
    // A node that bootstrapped pre-applied the founders' entries, one restarted from disk applies
    // them one by one: configs agree only from the last bootstrap entry on.
    if (!this.bootstrapWithEntries || e.index >= this.founders.length) this.checker.onConfApplied(node.id, e.index, cs);
    if (e.index > this.latestConf.index) {
      this.latestConf = { index: e.index, cs };
      this.report.confChanges++;
      const d = (l: bigint[]): string => l.join(' ');
      this.event(`config at ${e.index}: voters=(${d(cs.voters)}) outgoing=(${d(cs.votersOutgoing)}) learners=(${d(cs.learners)}) next=(${d(cs.learnersNext)})`);
      const inConf = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
      for (const id of inConf) this.everMember.add(id);
      for (const n of this.nodes.values()) {
        if (this.everMember.has(n.id) && !inConf.has(n.id)) this.decommission(n);
      }
    }
  }


  private deliver(d: InFlight): void {
    const m = d.m;
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    const lost = to === undefined || to.life !== 'up' || from?.life === 'gone' || this.net.cut(m.from, m.to);
    const senderSame = from !== undefined && from.life === 'up' && from.incarnation === d.senderIncarnation;
    if (lost) {
      this.net.counts.dropped++;
      if (senderSame && m.type === MessageType.MsgSnap) from.raw!.reportSnapshot(m.to, false);
      // The transport notices the broken connection (etcd reports unreachable peers to raft).
      if (senderSame && this.net.cut(m.from, m.to) && this.rand.intn(4) === 0) from.raw!.reportUnreachable(m.to);
      return;
    }
    this.net.counts.delivered++;
    to.raw!.step(m);
    if (senderSame && m.type === MessageType.MsgSnap) from.raw!.reportSnapshot(m.to, true);
  }

  /** Delivers due messages and handles Readys until the tick is quiet. */
  private settle(): void {
    for (let round = 0; round < 100; round++) {
      let acted = false;
      for (const d of this.net.takeDue(this.now)) {
        this.deliver(d);
        acted = true;
      }
      const up = this.upNodes();
      const startAt = up.length > 0 ? this.rand.intn(up.length) : 0;
      for (let k = 0; k < up.length; k++) {
        const n = up[(startAt + k) % up.length]!;
        if (n.life === 'up' && n.raw!.hasReady()) {
          this.processReady(n);
          acted = true;
        }
      }
      if (!acted) return;
    }
  }

  private tick(): void {
    this.now++;
    for (const n of this.nodes.values()) if (n.life === 'up') n.raw!.tick();
  }


  private chaos(ticks: number): void {
    this.net.faults = this.chaosFaults;
    this.event(`chaos: ${JSON.stringify(this.chaosFaults)}`);
    for (let t = 0; t < ticks; t++) {
      this.tick();
      this.randomEvents();
      this.settle();
    }
  }

  private randomEvents(): void {
    const r = this.rand;
    const up = this.upNodes();
    if (up.length > 0 && r.float() < 0.3) {
      const ldr = this.leader();
      const n = ldr !== undefined && r.intn(2) === 0 ? ldr : up[r.intn(up.length)]!;
      n.raw!.propose(enc.encode(`p${this.propSeq++}`));
    }
    if (r.float() < 0.015) this.randomCrash(up);
    if (r.float() < 0.04) {
      const down = [...this.nodes.values()].filter((n) => n.life === 'down' && this.now - n.downSince >= 3);
      if (down.length > 0) {
        const n = down[r.intn(down.length)]!;
        this.event(`restart ${n.id}`);
        this.start(n);
      }
    }
    if (!this.net.partitioned() && r.float() < 0.01) this.randomPartition();
    else if (this.net.partitioned() && r.float() < 0.03) {
      this.event('heal partition');
      this.net.heal();
    }
    if (r.float() < 0.02) this.randomConfChange();
    if (r.float() < 0.01) {
      const ldr = this.leader();
      const voters = ldr?.confState.voters.filter((id) => id !== ldr.id) ?? [];
      if (ldr !== undefined && voters.length > 0) {
        const to = voters[r.intn(voters.length)]!;
        this.event(`transfer leadership ${ldr.id} -> ${to}`);
        ldr.raw!.transferLeader(to);
      }
    }
    // Crashes above may have taken nodes down: pick among those still up.
    const stillUp = this.upNodes();
    if (stillUp.length > 0 && r.float() < 0.03) this.randomRead(stillUp);
    if (stillUp.length > 0 && r.float() < 0.04) this.compact(stillUp[r.intn(stillUp.length)]!);
    if (r.float() < 0.005) {
      this.chaosFaults = this.randomFaults();
      this.net.faults = this.chaosFaults;
      this.event(`network: ${JSON.stringify(this.chaosFaults)}`);
    }
  }

  private randomCrash(up: SimNode[]): void {
    const members = this.members();
    const down = members.filter((n) => n.life === 'down').length;
    // Keep crashes bounded so the chaos phase still makes progress now and then.
    if (up.length === 0 || down > members.length / 2) return;
    const n = up[this.rand.intn(up.length)]!;
    if (this.rand.intn(3) === 0) return this.crash(n, 'between steps');
    n.crashPoint = CRASH_POINTS[this.rand.intn(CRASH_POINTS.length)]!;
  }

  private randomPartition(): void {
    const ids = this.upNodes().map((n) => n.id);
    if (ids.length < 2) return;
    const a: bigint[] = [];
    const b: bigint[] = [];
    if (this.rand.intn(2) === 0) {
      // Isolate one node (often the leader: the classic stale-leader scenario).
      const ldr = this.leader();
      const x = ldr !== undefined && this.rand.intn(2) === 0 ? ldr.id : ids[this.rand.intn(ids.length)]!;
      for (const id of ids) (id === x ? a : b).push(id);
    } else {
      for (const id of ids) (this.rand.intn(2) === 0 ? a : b).push(id);
    }
    this.event(`partition (${a.join(' ')}) (${b.join(' ')})`);
    this.net.partition([a, b]);
  }

  private randomConfChange(): void {
    const ldr = this.leader();
    if (ldr === undefined) return;
    const plan = this.operator.plan(ldr.confState);
    if (plan === undefined) return;
    for (const id of plan.newNodes) {
      const n = new SimNode(id, false);
      this.nodes.set(id, n);
      this.start(n);
    }
    const err = ldr.raw!.proposeConfChange(plan.cc);
    this.event(`propose conf change at ${ldr.id}: ${plan.text}${err === undefined ? '' : ` (${err})`}`);
  }

  private randomRead(up: SimNode[]): void {
    const n = up[this.rand.intn(up.length)]!;
    const key = `r${this.readSeq++}`;
    this.reads.set(key, this.checker.maxCommit);
    n.raw!.readIndex(enc.encode(key));
  }

  /** Snapshots the node's state machine at its applied index and compacts the log behind it. */
  private compact(node: SimNode): void {
    const mem = node.mem!;
    const applied = node.appliedIndex;
    const snapIndex = node.disk.snapshot?.metadata.index ?? 0;
    if (applied < snapIndex + 5 || applied < mem.firstIndex()) return;
    const snap = mem.createSnapshot(applied, node.confState, encodeSnapshotData(applied, node.hash));
    if (typeof snap === 'string') return;
    const compactTo = Math.max(mem.firstIndex() - 1, applied - this.rand.intn(10));
    if (compactTo >= mem.firstIndex()) mem.compact(compactTo);
    node.disk.saveSnapshot(snap);
    node.disk.compact(compactTo);
    this.report.snapshots++;
  }


  private healAndCheckLiveness(): void {
    this.net.heal();
    this.net.faults = RELIABLE;
    for (const n of this.nodes.values()) {
      n.crashPoint = undefined;
      if (n.life === 'down') {
        this.event(`restart ${n.id} (heal)`);
        this.start(n);
      }
    }
    this.event('healed');
    const healedAt = this.now;

    // A leader that every member follows, within LEADER_BOUND ticks. Then let what the chaos left
    // in flight settle (a pending transfer, an uncommitted conf change, a joint config to leave)
    // so that nothing legitimate can depose the leader while its proposals are timed.
    let agreedAt = -1;
    let ldr: SimNode | undefined;
    for (;;) {
      ldr = this.agreedLeader();
      if (ldr !== undefined && agreedAt < 0) {
        agreedAt = this.now;
        const took = agreedAt - healedAt;
        if (took > this.report.maxElectionTicks) this.report.maxElectionTicks = took;
        this.event(`leader ${ldr.id} agreed after ${took} ticks`);
      }
      if (ldr === undefined && this.now - healedAt > LEADER_BOUND) {
        this.fail(`no agreed leader ${LEADER_BOUND} ticks after healing`);
      }
      if (ldr !== undefined && this.quiescent(ldr)) break;
      if (this.now - healedAt > 2 * LEADER_BOUND) this.fail('cluster did not settle after healing');
      if (ldr !== undefined && ldr.confState.votersOutgoing.length > 0 && this.now % ELECTION_TICK === 0) {
        ldr.raw!.proposeConfChange(this.operator.leaveJoint().cc);
      }
      this.tick();
      this.settle();
    }

    // Every proposal to the healthy leader must be applied by it within COMMIT_BOUND ticks.
    const proposals = this.opts.healProposals ?? 10;
    let sent = 0;
    while (sent < proposals || this.watched.size > 0) {
      const leader = this.agreedLeader();
      if (leader !== ldr) this.fail(`leadership moved from ${ldr.id} to ${leader?.id ?? 'nobody'} in a healthy cluster`);
      for (const [key, at] of this.watched) {
        if (this.now - at > COMMIT_BOUND) this.fail(`proposal ${key} to leader ${ldr.id} not applied within ${COMMIT_BOUND} ticks`);
      }
      if (sent < proposals) {
        const key = `h${this.propSeq++}`;
        const err = ldr.raw!.propose(enc.encode(key));
        if (err !== undefined) this.fail(`healthy leader ${ldr.id} refused proposal ${key}: ${err}`);
        this.watched.set(key, this.now);
        sent++;
      }
      this.tick();
      this.settle();
    }

    // Every member catches up with the leader's state.
    const convergeFrom = this.now;
    for (;;) {
      const leader = this.agreedLeader();
      if (leader !== ldr) this.fail(`leadership moved from ${ldr.id} to ${leader?.id ?? 'nobody'} while converging`);
      const behind = this.members().filter((n) => n.appliedIndex !== ldr.appliedIndex || n.hash !== ldr.hash);
      if (behind.length === 0) break;
      if (this.now - convergeFrom > CONVERGE_BOUND) {
        const d = behind.map((n) => `${n.id}@${n.appliedIndex}`).join(' ');
        this.fail(`members ${d} did not catch up with leader ${ldr.id}@${ldr.appliedIndex} within ${CONVERGE_BOUND} ticks`);
      }
      this.tick();
      this.settle();
    }
    this.event(`converged at ${this.now}`);
  }

  /** Nothing from the chaos is still in motion around leader `l`. */
  private quiescent(l: SimNode): boolean {
    return (
      this.net.pending() === 0 &&
      l.confState.votersOutgoing.length === 0 &&
      l.appliedIndex === l.mem!.lastIndex() &&
      l.raw!.status().leadTransferee === 0n
    );
  }

  /** The leader every live member follows in the leader's term, if there is one. */
  private agreedLeader(): SimNode | undefined {
    const ldr = this.leader();
    if (ldr === undefined) return undefined;
    for (const n of this.members()) {
      if (n.life !== 'up' || n.lead !== ldr.id || n.term !== ldr.term) return undefined;
    }
    return ldr;
  }
}
