/**
 * The host loop of one member (etcd's raftNode): the only place that steps the raft state
 * machine and the only place that awaits disk on the raft path. Each turn it steps everything
 * queued since the last one (ticks, peer messages, proposals, read index requests), then handles
 * one Ready in order: persist (snapshot, WAL append + fsync), send, queue the committed entries
 * for applying, advance. Proposals that arrive while a WAL write is in flight wait in the queue
 * and are all written by the next turn's single write and fsync (group commit).
 *
 * Entries are applied only once persisted, in order, by an apply queue that runs while the next
 * turn's WAL write is in flight (as etcd's apply goroutine); the loop waits for the queue only
 * when a Ready commits a membership change. Committed entries already in the local WAL are
 * queued before the Ready's own write, so their replies do not wait for the next fsync.
 *
 * A leader sends its messages before its own fsync (Raft thesis §10.2.1: it may append to its log
 * in parallel with replication); a follower persists before it answers.
 */
import { EntryType, isEmptySnapshot, type ConfChange, type ConfChangeV2, type ConfState, type Entry, type HardState, type Message, type Snapshot } from '../api/raftpb/types.js';
import type { Logger } from '../pkg/logger.js';
import { StateType, isStorageError, type MemoryStorage, type RawNode, type ReadState, type SoftState, type Status } from '../raft/index.js';
import type { CallState } from './server-api.js';
import { EntryDataSlab } from './entry-data-slab.js';
import type { Failpoints } from './failpoints.js';
import type { PeerSender } from './peer-sender.js';
import type { RaftStorage } from './raft-storage.js';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0n, commit: 0 };
const EMPTY_BYTES = new Uint8Array(0);

/** What the loop asks of the server around it. */
export interface RaftNodeHooks {
  /** The leader or this member's role changed (after the Ready carrying it was received). */
  onSoftState(ss: SoftState): void;
  /** Read index requests confirmed; serve each once applied reaches its index. */
  onReadStates(rs: readonly ReadState[]): void;
  /** A snapshot from the leader is durable: restore the state machine from it. */
  applySnapshot(snap: Snapshot): Promise<void>;
  /**
   * Applies committed entries in order, calling RaftNode.applyConfChange for conf changes. The
   * loop waits for it; the entries are durable in the WAL.
   */
  applyEntries(entries: readonly Entry[]): Promise<void>;
  /** Everything up to `index` is applied (appliedIndex was just raised to it). */
  onApplied(index: number): void;
  /** Makes the state machine durable up to everything applied, before a snapshot lets the WAL go. */
  persistApplied(): Promise<void>;
  /** The state kept in a raft snapshot's data (the v2 store), read at the snapshot's applied index. */
  snapshotData?(): Uint8Array;
  /** The loop or an apply failed (disk error, broken invariant): the member must stop. */
  onFatal(err: Error): void;
}

/** Construction parameters of a RaftNode. */
export interface RaftNodeOptions {
  readonly id: bigint;
  readonly node: RawNode;
  /** raft's storage; the loop appends what it persisted. */
  readonly storage: MemoryStorage;
  readonly raftStorage: RaftStorage;
  readonly sender: PeerSender;
  readonly failpoints: Failpoints;
  readonly logger: Logger;
  readonly hooks: RaftNodeHooks;
  /** Milliseconds per tick (--heartbeat-interval). */
  readonly tickMs: number;
  /** Ticks of an election timeout, for the initial fast-forward. */
  readonly electionTicks: number;
  /** Fast-forward election ticks at start (--initial-election-tick-advance). */
  readonly initialElectionTickAdvance: boolean;
  /** Applied entries between snapshots (--snapshot-count). */
  readonly snapshotCount: number;
  /** Entries kept in memory behind a snapshot for slow followers. */
  readonly catchUpEntries: number;
  /** The index applied at boot (the snapshot's). */
  readonly appliedIndex: number;
  /** The index of the snapshot recovered at boot (0: none). */
  readonly snapshotIndex: number;
  /** The membership at boot (the snapshot's). */
  readonly confState: ConfState;
}

/** Counters for tests and benchmarks. */
export interface RaftNodeStats {
  /** Loop turns that handled a Ready. */
  readies: number;
  /** Readies that persisted entries. */
  saves: number;
  /** Entries persisted. */
  entriesSaved: number;
  /** Snapshots taken. */
  snapshots: number;
}

/** The host loop; see the file comment. */
export class RaftNode {
  /** The leader as last reported (0n: none known). */
  lead = 0n;
  /** This member's role. */
  raftState: StateType = StateType.StateFollower;
  /** The current term, as persisted. */
  term: number;
  /** The commit index, as persisted. */
  committedIndex: number;
  /** invariant: appliedIndex <= committedIndex; everything up to it was applied. */
  appliedIndex: number;
  /** The index of the latest snapshot. */
  snapshotIndex: number;
  /** The membership as of the last applied conf change. */
  confState: ConfState;
  /** Counters. */
  readonly stats: RaftNodeStats = { readies: 0, saves: 0, entriesSaved: 0, snapshots: 0 };
  /** Copies of entry data for the in-memory log, so it does not pin shared buffers. */
  private readonly entrySlab = new EntryDataSlab();

  private readonly o: RaftNodeOptions;
  private ticks = 0;
  private inboxMessages: Message[] = [];
  private proposals: Uint8Array[] = [];
  private proposalIds: bigint[] = [];
  /** The calls of the queued proposals, when known. */
  private proposalCalls: (CallState | undefined)[] = [];
  private confChanges: (ConfChange | ConfChangeV2)[] = [];
  private readRequests: Uint8Array[] = [];
  private transferTo = 0n;
  /** Peer reports from the transport, stepped on the next turn. */
  private peerReports: { id: bigint; snapshot: boolean; ok: boolean }[] = [];
  private ticker: NodeJS.Timeout | undefined;
  private sleeping: (() => void) | undefined;
  private wakeScheduled = false;
  private stopping = false;
  private running: Promise<void> | undefined;
  private campaignedAlone = false;
  /** The chain of scheduled applies; each runs after the one before. */
  private applying: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** WAL segments cut when old ones were last released. */
  private cutsSeen = 0;
  /** The last index in the local WAL (the log as persisted, after any overwrite). */
  private persistedIndex: number;

  constructor(options: RaftNodeOptions) {
    this.o = options;
    const hs = options.storage.hardState;
    this.term = hs.term;
    this.committedIndex = hs.commit;
    this.appliedIndex = options.appliedIndex;
    this.snapshotIndex = options.snapshotIndex;
    this.persistedIndex = options.storage.lastIndex();
    this.confState = options.confState;
  }

  /** Whether this member is the leader. */
  get isLeader(): boolean {
    return this.raftState === StateType.StateLeader;
  }

  /** Number of proposals waiting for the next turn. */
  get queuedProposals(): number {
    return this.proposals.length;
  }

  /** Starts the ticker and the loop. */
  start(): void {
    if (this.running !== undefined) return;
    if (this.o.initialElectionTickAdvance && !this.isSoleVoter()) {
      // etcd fast-forwards to one tick before the election timeout so the first election is quick.
      this.ticks += Math.max(0, this.o.electionTicks - 1);
    }
    this.ticker = setInterval(() => {
      this.ticks++;
      this.wake();
    }, this.o.tickMs);
    this.running = this.run();
  }

  /** Stops ticking and waits for the loop to finish the turn it is in. Queued work is dropped. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    const s = this.sleeping;
    this.sleeping = undefined;
    s?.();
    await this.running;
  }

  /**
   * Queues a proposal of `data` (an encoded request whose ID is `id`) for the next turn. While
   * no leader is known proposals stay queued (raft would drop them); see cancelQueued. One whose
   * `call` is cancelled by then is dropped instead of proposed (its waiter expires).
   */
  propose(data: Uint8Array, id: bigint, call?: CallState): void {
    this.proposals.push(data);
    this.proposalIds.push(id);
    this.proposalCalls.push(call);
    this.wake();
  }

  /** Removes a proposal that is still queued. Returns whether it was (then it never reached raft). */
  cancelQueued(id: bigint): boolean {
    const i = this.proposalIds.indexOf(id);
    if (i < 0) return false;
    this.proposalIds.splice(i, 1);
    this.proposals.splice(i, 1);
    this.proposalCalls.splice(i, 1);
    return true;
  }

  /** Drops the queued proposals whose clients gave up. */
  private dropAbandoned(): void {
    const calls = this.proposalCalls;
    if (!calls.some((c) => c?.cancelled === true)) return;
    const keep = calls.map((c) => c?.cancelled !== true);
    this.proposals = this.proposals.filter((_, i) => keep[i]);
    this.proposalIds = this.proposalIds.filter((_, i) => keep[i]);
    this.proposalCalls = calls.filter((_, i) => keep[i]);
  }

  /** Queues a membership change proposal. */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    this.confChanges.push(cc);
    this.wake();
  }

  /** Queues a read index request carrying `ctx`; its ReadState comes back through the hooks. */
  readIndex(ctx: Uint8Array): void {
    this.readRequests.push(ctx);
    this.wake();
  }

  /** Queues a message received from a peer. */
  step(m: Message): void {
    this.inboxMessages.push(m);
    this.wake();
  }

  /** raft's status (replication progress of every member when this one leads). */
  status(): Status {
    return this.o.node.status();
  }

  /** The transport could not reach `id` (raft falls back to probing it). */
  reportUnreachable(id: bigint): void {
    this.peerReports.push({ id, snapshot: false, ok: false });
    this.wake();
  }

  /** Outcome of a snapshot sent to `id`. */
  reportSnapshot(id: bigint, ok: boolean): void {
    this.peerReports.push({ id, snapshot: true, ok });
    this.wake();
  }

  /** Asks raft to hand leadership to `transferee`. */
  transferLeadership(transferee: bigint): void {
    this.transferTo = transferee;
    this.wake();
  }

  /** Applies a committed membership change to raft (during applyEntries only). */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    this.confState = this.o.node.applyConfChange(cc);
    return this.confState;
  }

  private wake(): void {
    if (this.sleeping === undefined || this.wakeScheduled) return;
    this.wakeScheduled = true;
    // Let the callbacks of this I/O phase queue their work too, so one turn takes it all.
    setImmediate(() => {
      this.wakeScheduled = false;
      const s = this.sleeping;
      this.sleeping = undefined;
      s?.();
    });
  }

  private isSoleVoter(): boolean {
    const cs = this.confState;
    return cs.voters.length === 1 && cs.voters[0] === this.o.id && cs.votersOutgoing.length === 0;
  }

  /** Steps everything queued since the last turn into raft. */
  private drainInbox(): void {
    const node = this.o.node;
    for (; this.ticks > 0; this.ticks--) node.tick();
    if (this.inboxMessages.length > 0) {
      const msgs = this.inboxMessages;
      this.inboxMessages = [];
      for (const m of msgs) node.step(m);
    }
    if (this.peerReports.length > 0) {
      const reports = this.peerReports;
      this.peerReports = [];
      for (const r of reports) {
        if (r.snapshot) node.reportSnapshot(r.id, r.ok);
        else node.reportUnreachable(r.id);
      }
    }
    // Without a leader raft drops proposals and reads: keep them until there is one.
    if (this.lead === 0n) return;
    if (this.proposals.length > 0) this.dropAbandoned();
    if (this.proposals.length > 0) {
      const err = node.proposeBatch(this.proposals);
      // A refused batch (a leadership transfer is under way) is retried on a later turn.
      if (err === undefined) {
        this.proposals = [];
        this.proposalIds = [];
        this.proposalCalls = [];
      } else if (this.o.logger.enabled('debug')) {
        this.o.logger.debug('proposals refused by raft; retrying', { reason: err, count: this.proposals.length });
      }
    }
    if (this.confChanges.length > 0) {
      const ccs = this.confChanges;
      this.confChanges = [];
      for (const cc of ccs) node.proposeConfChange(cc);
    }
    if (this.readRequests.length > 0) {
      const reqs = this.readRequests;
      this.readRequests = [];
      for (const ctx of reqs) node.readIndex(ctx);
    }
    if (this.transferTo !== 0n) {
      node.transferLeader(this.transferTo);
      this.transferTo = 0n;
    }
  }

  private async run(): Promise<void> {
    const node = this.o.node;
    try {
      while (!this.stopping && this.failure === undefined) {
        this.drainInbox();
        if (!this.campaignedAlone && this.lead === 0n && this.isSoleVoter()) {
          // The only voter needs no one's vote: do not wait out an election timeout.
          this.campaignedAlone = true;
          node.campaign();
        }
        if (!node.hasReady()) {
          await new Promise<void>((resolve) => {
            this.sleeping = resolve;
          });
          continue;
        }
        const rd = node.ready();
        this.stats.readies++;
        await this.handleReady(rd);
        node.advance();
      }
      await this.applying;
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.o.hooks.onFatal(this.failure);
    const s = this.sleeping;
    this.sleeping = undefined;
    s?.();
  }

  /**
   * Queues committed (and persisted) entries for applying, after everything queued before. The
   * loop goes on to the next Ready meanwhile, so applying overlaps the next WAL write (as etcd's
   * apply goroutine does). Snapshots are taken from here, between applies.
   */
  private scheduleApply(ents: readonly Entry[]): Promise<void> {
    const { hooks, failpoints: fp } = this.o;
    const last = ents[ents.length - 1]!.index;
    this.applying = this.applying.then(async () => {
      if (this.failure !== undefined) return;
      try {
        fp.hit('before-apply');
        await hooks.applyEntries(ents);
        this.appliedIndex = last;
        hooks.onApplied(last);
        if (this.appliedIndex - this.snapshotIndex > this.o.snapshotCount) await this.snapshot();
      } catch (err) {
        this.fail(err);
      }
    });
    return this.applying;
  }

  private async handleReady(rd: ReturnType<RawNode['ready']>): Promise<void> {
    const { hooks, failpoints: fp, storage, raftStorage, sender } = this.o;
    if (rd.hardState !== undefined) {
      this.term = rd.hardState.term;
      this.committedIndex = rd.hardState.commit;
    }
    if (rd.softState !== undefined) {
      this.lead = rd.softState.lead;
      this.raftState = rd.softState.raftState;
      hooks.onSoftState(rd.softState);
    }
    if (rd.readStates.length > 0) hooks.onReadStates(rd.readStates);
    const leader = this.raftState === StateType.StateLeader;
    if (leader && rd.messages.length > 0) sender.send(rd.messages);

    const snap = rd.snapshot;
    const hasSnap = !isEmptySnapshot(snap);
    let ents = rd.committedEntries;
    if (ents.length > 0 && !hasSnap) {
      // Committed (so durable on a quorum) and already in this member's WAL, and not overwritten by
      // this Ready: nothing this write does can change them, so they apply while it is in flight.
      const limit = rd.entries.length > 0 ? Math.min(this.persistedIndex, rd.entries[0]!.index - 1) : this.persistedIndex;
      let n = 0;
      while (n < ents.length && ents[n]!.index <= limit) n++;
      if (n > 0) {
        void this.scheduleApply(n === ents.length ? ents : ents.slice(0, n));
        ents = ents.slice(n);
      }
    }
    if (hasSnap) {
      await raftStorage.saveSnapshot(snap!);
      this.persistedIndex = snap!.metadata.index;
    }
    if (rd.entries.length > 0 || rd.hardState !== undefined) {
      if (rd.entries.length > 0) {
        fp.hit('before-save');
        this.stats.saves++;
        this.stats.entriesSaved += rd.entries.length;
      }
      await raftStorage.save(rd.hardState ?? EMPTY_HARD_STATE, rd.entries, rd.mustSync);
      if (rd.entries.length > 0) {
        this.persistedIndex = rd.entries[rd.entries.length - 1]!.index;
        fp.hit('after-save');
      }
      if (raftStorage.wal.stats.cuts !== this.cutsSeen) {
        // A new segment may push an old one past --max-wals (etcd's purge would delete it).
        this.cutsSeen = raftStorage.wal.stats.cuts;
        if (this.snapshotIndex > 0) await raftStorage.release(this.snapshotIndex);
      }
    }
    if (hasSnap) {
      // The state machine is replaced: every earlier apply must be done first.
      await this.applying;
      storage.applySnapshot(snap!);
      await hooks.applySnapshot(snap!);
      this.confState = snap!.metadata.confState;
      this.snapshotIndex = snap!.metadata.index;
      this.appliedIndex = snap!.metadata.index;
      hooks.onApplied(this.appliedIndex);
    }
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) storage.append(this.entrySlab.retainable(rd.entries));
    if (!leader && rd.messages.length > 0) sender.send(rd.messages);

    if (ents.length > 0) void this.scheduleApply(ents);
    // A membership change must be in effect before raft goes on (etcd waits for it too).
    if (rd.committedEntries.some((e) => e.type !== EntryType.EntryNormal)) await this.applying;
  }

  /**
   * Takes a raft snapshot at the applied index (etcd's triggerSnapshot): the state machine is made
   * durable first, then the snapshot file and its WAL marker are written, WAL segments and old
   * snapshot files before it are released, and raft's in-memory log is compacted, keeping
   * catchUpEntries entries for slow followers.
   */
  private async snapshot(): Promise<void> {
    const { hooks, failpoints: fp, storage, raftStorage, logger } = this.o;
    const snapi = this.appliedIndex;
    const data = hooks.snapshotData?.() ?? EMPTY_BYTES;
    await hooks.persistApplied();
    fp.hit('before-save-snap');
    const snap = storage.createSnapshot(snapi, this.confState, data);
    if (isStorageError(snap)) {
      if (snap === 'snapshot-out-of-date') return;
      throw new Error(`failed to create snapshot at ${snapi}: ${snap}`);
    }
    await raftStorage.saveSnapshot(snap);
    this.snapshotIndex = snapi;
    this.stats.snapshots++;
    fp.hit('after-save-snap');
    const released = await raftStorage.release(snapi);
    fp.hit('after-wal-release');
    const compacti = snapi > this.o.catchUpEntries ? snapi - this.o.catchUpEntries : 1;
    const err = storage.compact(compacti);
    if (err !== undefined && err !== 'compacted') throw new Error(`failed to compact raft log at ${compacti}: ${err}`);
    logger.info('saved snapshot', {
      'snapshot-index': snapi,
      'compact-index': compacti,
      'released-wal-segments': released.wals,
      'purged-snap-files': released.snaps,
    });
  }
}
