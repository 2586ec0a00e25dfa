import type { ConfState, Entry, HardState, Message } from '../api/raftpb/types.js';
import { EntryType, MessageType, emptyConfState } from '../api/raftpb/types.js';
import { seededRand } from '../pkg/rand.js';
import type { RaftConfig } from './config.js';
import { NO_LIMIT } from './config.js';
import { unmarshalConfChange, unmarshalConfChangeV2 } from './conf-change-codec.js';
import { RawNode } from './raw-node.js';
import type { ReadState } from './ready.js';
import { StateType } from './ready.js';
import { MemoryStorage } from './storage.js';

/** One node of a TestNetwork with its storage and what its host applied. */
export interface TestPeer {
  readonly id: bigint;
  /** The node; replaced when the peer is re-added (a restart). */
  node: RawNode;
  /** Its durable state, written as a host would from each Ready. */
  storage: MemoryStorage;
  /** Data of the normal, non-empty entries applied, in order. */
  applied: Uint8Array[];
  /** Every committed entry handed out for applying, in order. */
  appliedEntries: Entry[];
  /** Read states received, in order. */
  readStates: ReadState[];
  /** The ConfState after the last applied conf change or snapshot. */
  confState: ConfState;
}

/** Options of a TestNetwork; per-node settings can be overridden through `config`. */
export interface TestNetworkOptions {
  electionTick?: number;
  heartbeatTick?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  /** Learners of the initial config (voters are the ids given). */
  learners?: bigint[];
  /** Seed of the election timeout randomness; each node gets seed + id. */
  seed?: number;
  /** Edits each node's config before it is created. */
  config?: (c: RaftConfig) => void;
  /** Initial storage per node (e.g. a pre-populated log); default empty with the initial config. */
  storage?: (id: bigint, cs: ConfState) => MemoryStorage;
}

/**
 * A tiny in-memory network of RawNodes for tests: each round every node's Ready is handled as a
 * host would (persist, apply, advance) and the messages are delivered in order. Links can be cut
 * and nodes isolated; messages on a cut link are dropped.
 */
export class TestNetwork {
  /** The nodes by ID. */
  readonly peers = new Map<bigint, TestPeer>();
  /** Messages waiting for delivery. */
  queue: Message[] = [];
  /** Every message delivered or dropped so far, for assertions. */
  readonly sent: Message[] = [];
  /** Extra filter: return true to drop a message. */
  dropIf: ((m: Message) => boolean) | undefined = undefined;
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<bigint>();

  constructor(
    ids: bigint[],
    private readonly opts: TestNetworkOptions = {},
  ) {
    const cs = emptyConfState();
    cs.voters = ids.slice();
    cs.learners = (opts.learners ?? []).slice();
    for (const id of [...ids, ...(opts.learners ?? [])]) this.addPeer(id, opts.storage?.(id, cs) ?? new MemoryStorage(cs));
  }

  /** Adds (or replaces) a node with the given storage; it starts from the storage's state. */
  addPeer(id: bigint, storage: MemoryStorage): TestPeer {
    const o = this.opts;
    const config: RaftConfig = {
      id,
      electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1,
      storage,
      maxSizePerMsg: o.maxSizePerMsg ?? NO_LIMIT,
      maxInflightMsgs: o.maxInflightMsgs ?? 256,
      checkQuorum: o.checkQuorum ?? false,
      preVote: o.preVote ?? false,
      rand: seededRand((o.seed ?? 1) + Number(id)),
    };
    o.config?.(config);
    const peer: TestPeer = {
      id,
      node: new RawNode(config),
      storage,
      applied: [],
      appliedEntries: [],
      readStates: [],
      confState: storage.initialState().confState,
    };
    this.peers.set(id, peer);
    return peer;
  }

  /** The peer with this ID (throws if absent). */
  peer(id: bigint): TestPeer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no peer ${id}`);
    return p;
  }

  /** The RawNode with this ID. */
  node(id: bigint): RawNode {
    return this.peer(id).node;
  }

  /** Drops messages between a and b, both ways. */
  cut(a: bigint, b: bigint): void {
    this.cuts.add(`${a}-${b}`);
    this.cuts.add(`${b}-${a}`);
  }

  /** Drops every message to or from id. */
  isolate(id: bigint): void {
    this.isolated.add(id);
  }

  /** Heals every cut and isolation. */
  recover(): void {
    this.cuts.clear();
    this.isolated.clear();
    this.dropIf = undefined;
  }

  /** Ticks one node n times. */
  tick(id: bigint, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick();
  }

  /** Ticks every node n times, handling readies and delivering messages after each round. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.sortedPeers()) p.node.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and runs the network until quiet. */
  campaign(id: bigint): void {
    this.node(id).campaign();
    this.stabilize();
  }

  /** Proposes data at `id` and runs the network until quiet; returns the step result. */
  propose(id: bigint, data: string | Uint8Array): ReturnType<RawNode['propose']> {
    const r = this.node(id).propose(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.stabilize();
    return r;
  }

  /**
   * Handles the Ready of every node (persist, apply, advance) and queues their messages; returns
   * the messages produced this round.
   */
  processReadies(): Message[] {
    const out: Message[] = [];
    for (const p of this.sortedPeers()) {
      while (p.node.hasReady()) {
        const rd = p.node.ready();
        if (rd.snapshot !== undefined) {
          p.storage.applySnapshot(rd.snapshot);
          p.confState = rd.snapshot.metadata.confState;
        }
        if (rd.hardState !== undefined) p.storage.setHardState(rd.hardState);
        p.storage.append(rd.entries);
        for (const m of rd.messages) out.push(m);
        for (const e of rd.committedEntries) this.apply(p, e);
        for (const rs of rd.readStates) p.readStates.push(rs);
        p.node.advance();
      }
    }
    for (const m of out) this.queue.push(m);
    return out;
  }

  private apply(p: TestPeer, e: Entry): void {
    p.appliedEntries.push(e);
    if (e.type === EntryType.EntryNormal) {
      if (e.data.length > 0) p.applied.push(e.data);
    } else if (e.type === EntryType.EntryConfChange) {
      p.confState = p.node.applyConfChange(unmarshalConfChange(e.data));
    } else if (e.type === EntryType.EntryConfChangeV2) {
      p.confState = p.node.applyConfChange(unmarshalConfChangeV2(e.data));
    }
  }

  /** Whether m would be dropped by a cut, an isolation or dropIf. */
  dropped(m: Message): boolean {
    if (this.isolated.size > 0 && (this.isolated.has(m.from) || this.isolated.has(m.to))) return true;
    if (this.cuts.size > 0 && this.cuts.has(`${m.from}-${m.to}`)) return true;
    return this.dropIf !== undefined && this.dropIf(m);
  }

  /** Delivers the queued messages (those queued meanwhile wait for the next call). */
  deliver(): number {
    const msgs = this.queue;
    this.queue = [];
    let n = 0;
    for (const m of msgs) {
      this.sent.push(m);
      if (this.dropped(m)) {
        // A transport knows when a snapshot could not be sent.
        if (m.type === MessageType.MsgSnap) this.peers.get(m.from)?.node.reportSnapshot(m.to, false);
        continue;
      }
      const p = this.peers.get(m.to);
      if (p === undefined) continue;
      p.node.step(m);
      n++;
      // A transport reports a snapshot as sent once it was delivered.
      if (m.type === MessageType.MsgSnap) this.peers.get(m.from)?.node.reportSnapshot(m.to, true);
    }
    return n;
  }

  /** Runs readies and deliveries until nothing moves (bounded, throws if it never settles). */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.processReadies();
      if (this.queue.length === 0) return;
      this.deliver();
    }
    throw new Error('network did not stabilize');
  }

  /** The ID of the leader with the highest term, or 0n when there is none. */
  leader(): bigint {
    let best = 0n;
    let bestTerm = -1;
    for (const p of this.sortedPeers()) {
      const r = p.node.raft;
      if (r.state === StateType.StateLeader && r.term > bestTerm) {
        best = p.id;
        bestTerm = r.term;
      }
    }
    return best;
  }

  private sortedPeers(): TestPeer[] {
    return [...this.peers.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** Entries with the given terms at consecutive indexes from `startIndex` (tests). */
export function entriesWithTerms(terms: readonly number[], startIndex = 1): Entry[] {
  return terms.map((term, i) => ({ term, index: startIndex + i, type: EntryType.EntryNormal, data: new Uint8Array(0) }));
}

/**
 * A MemoryStorage holding a log with the given terms (indexes 1..n), the given voters and
 * learners, and optionally a hard state (tests).
 */
export function storageWith(voters: bigint[], terms: readonly number[] = [], hs?: HardState, learners: bigint[] = []): MemoryStorage {
  const cs = emptyConfState();
  cs.voters = voters.slice();
  cs.learners = learners.slice();
  const s = new MemoryStorage(cs);
  s.append(entriesWithTerms(terms));
  if (hs !== undefined) s.setHardState(hs);
  return s;
}

/** A test config: electionTick 10, heartbeatTick 1, no limits, seeded by id; `overrides` win. */
export function testConfig(id: bigint, storage: MemoryStorage, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    maxSizePerMsg: NO_LIMIT,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    rand: seededRand(Number(id)),
    ...overrides,
  };
}
