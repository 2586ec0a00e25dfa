import type { ConfChange, ConfChangeV2, ConfState, Entry, HardState, Message } from '../api/raftpb/types.js';
import { ConfChangeType, EntryType, MessageType } from '../api/raftpb/types.js';
import { confChangeToV2 } from './confchange/index.js';
import { isConfChangeV2, marshalConfChange, marshalConfChangeV2 } from './conf-change-codec.js';
import type { RaftConfig } from './config.js';
import type { StepError } from './errors.js';
import { isLocalMsg, isResponseMsg, newMsg } from './messages.js';
import { Raft } from './raft.js';
import type { Ready, SoftState, Status } from './ready.js';
import { getStatus } from './status.js';

export type { StepError } from './errors.js';

const EMPTY_BYTES = new Uint8Array(0);

/**
 * A raft node driven by its host, synchronously (etcd's RawNode). The host calls tick() on a
 * timer, step() for messages from peers, propose()/readIndex()/... for requests, and then loops:
 * `if (node.hasReady()) { const rd = node.ready(); persist, send, apply; node.advance(); }`.
 * Nothing here does I/O, reads a clock or draws randomness other than config.rand.
 */
export class RawNode {
  /** The state machine; exposed for tests and the host's introspection, not for mutation. */
  readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;
  // The Ready handed out and not yet advanced.
  private pending: Ready | undefined = undefined;

  /** Creates a node from config, restoring its state from config.storage. Throws on an invalid config. */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /**
   * Initializes a brand-new node (empty storage) with the initial members `peers`: one
   * ConfChangeAddNode entry per peer at term 1, committed, to be persisted and applied through
   * the first Ready like any other entries. Throws when peers is empty or storage is not empty.
   */
  bootstrap(peers: bigint[]): void {
    if (peers.length === 0) throw new Error('must provide at least one peer to Bootstrap');
    const r = this.raft;
    if (r.raftLog.storage.lastIndex() !== 0) throw new Error("can't bootstrap a nonempty Storage");
    // Nothing is persisted yet: the first Ready must carry the HardState.
    this.prevHardSt = { term: 0, vote: 0n, commit: 0 };
    r.becomeFollower(1, 0n);
    const ents: Entry[] = peers.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.EntryConfChange,
      data: marshalConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: id, context: EMPTY_BYTES }),
    }));
    r.raftLog.append(ents);
    // The bootstrap entries are committed by definition. They are applied to the tracker now so
    // the node can campaign right away, and again by the host when they come out of a Ready
    // (applied is not advanced, so the host sees every conf change).
    r.raftLog.committed = ents.length;
    for (const id of peers) {
      r.applyConfChange(confChangeToV2({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: id, context: EMPTY_BYTES }));
    }
  }

  /** Advances the logical clock by one tick (election and heartbeat timeouts count ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with pre-vote if configured). */
  campaign(): StepError | undefined {
    return this.raft.step(this.localMsg(MessageType.MsgHup));
  }

  /** Proposes data to be appended to the log. */
  propose(data: Uint8Array): StepError | undefined {
    const m = this.localMsg(MessageType.MsgProp);
    m.entries = [{ term: 0, index: 0, type: EntryType.EntryNormal, data }];
    return this.raft.step(m);
  }

  /** Proposes several entries in one message: cheaper than one propose() each. */
  proposeBatch(data: readonly Uint8Array[]): StepError | undefined {
    if (data.length === 0) return undefined;
    const m = this.localMsg(MessageType.MsgProp);
    const ents: Entry[] = new Array<Entry>(data.length);
    for (let i = 0; i < data.length; i++) ents[i] = { term: 0, index: 0, type: EntryType.EntryNormal, data: data[i]! };
    m.entries = ents;
    return this.raft.step(m);
  }

  /**
   * Proposes a membership change. Only one may be pending at a time: a change proposed while
   * another is unapplied is replaced by an empty normal entry. Apply it with applyConfChange
   * once committed.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2): StepError | undefined {
    const m = this.localMsg(MessageType.MsgProp);
    m.entries = isConfChangeV2(cc)
      ? [{ term: 0, index: 0, type: EntryType.EntryConfChangeV2, data: marshalConfChangeV2(cc) }]
      : [{ term: 0, index: 0, type: EntryType.EntryConfChange, data: marshalConfChange(cc) }];
    return this.raft.step(m);
  }

  /** Applies a committed membership change and returns the resulting ConfState (to store with snapshots). */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(isConfChangeV2(cc) ? cc : confChangeToV2(cc));
  }

  /**
   * Steps a message received from a peer. Local message types are refused, and so are responses
   * from peers outside the configuration.
   */
  step(m: Message): StepError | undefined {
    if (isLocalMsg(m.type)) return 'step-local-msg';
    if (!isResponseMsg(m.type) || this.raft.trk.progress.has(m.from)) return this.raft.step(m);
    return 'step-peer-not-found';
  }

  /**
   * Requests a linearizable read point. The answer arrives as a ReadState carrying `ctx` in a
   * later Ready (and may never arrive if leadership changes: retry after a timeout).
   */
  readIndex(ctx: Uint8Array): void {
    const m = newMsg(MessageType.MsgReadIndex, 0n);
    m.entries = [{ term: 0, index: 0, type: EntryType.EntryNormal, data: ctx }];
    this.raft.step(m);
  }

  /** Asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: bigint): void {
    const m = newMsg(MessageType.MsgTransferLeader, 0n);
    m.from = transferee;
    this.raft.step(m);
  }

  /** Tells the leader that the last message to `id` could not be delivered. */
  reportUnreachable(id: bigint): void {
    const m = newMsg(MessageType.MsgUnreachable, 0n);
    m.from = id;
    this.raft.step(m);
  }

  /** Tells the leader whether sending a snapshot to `id` succeeded. */
  reportSnapshot(id: bigint, ok: boolean): void {
    const m = newMsg(MessageType.MsgSnapStatus, 0n);
    m.from = id;
    m.reject = !ok;
    this.raft.step(m);
  }

  /** Whether ready() would return anything to do. */
  hasReady(): boolean {
    const r = this.raft;
    if (r.lead !== this.prevSoftSt.lead || r.state !== this.prevSoftSt.raftState) return true;
    const hs = this.prevHardSt;
    const commit = r.raftLog.committed;
    if ((r.term !== 0 || r.vote !== 0n || commit !== 0) && (r.term !== hs.term || r.vote !== hs.vote || commit !== hs.commit)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.hasUnstableEntries() || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length !== 0;
  }

  /**
   * Everything the host must now persist, send and apply (see Ready). The host must call
   * advance() when done, before the next ready().
   */
  ready(): Ready {
    const r = this.raft;
    const prevHs = this.prevHardSt;
    const entries = r.raftLog.unstableEntries();
    const readStates = r.readStates;
    if (readStates.length !== 0) r.readStates = [];
    const rd: Ready = {
      softState: undefined,
      hardState: undefined,
      // Never share the array raft keeps appending to.
      readStates: readStates.length !== 0 ? readStates : [],
      entries,
      snapshot: r.raftLog.unstable.snapshot,
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: entries.length !== 0 || r.vote !== prevHs.vote || r.term !== prevHs.term,
    };
    if (r.lead !== this.prevSoftSt.lead || r.state !== this.prevSoftSt.raftState) {
      rd.softState = r.softState();
      this.prevSoftSt = rd.softState;
    }
    if (r.term !== prevHs.term || r.vote !== prevHs.vote || r.raftLog.committed !== prevHs.commit) {
      rd.hardState = r.hardState();
      this.prevHardSt = rd.hardState;
    }
    r.msgs = [];
    this.pending = rd;
    return rd;
  }

  /**
   * Tells the node the last Ready was handled: its entries and snapshot are persisted and its
   * committed entries applied. A call without a preceding ready() does nothing.
   */
  advance(): void {
    const rd = this.pending;
    if (rd === undefined) return;
    this.pending = undefined;
    const n = rd.entries.length;
    this.raft.advance(n > 0 ? rd.entries[n - 1] : undefined, rd.snapshot?.metadata.index ?? 0, rd.committedEntries);
  }

  /** The node's current state, for monitoring. */
  status(): Status {
    return getStatus(this.raft);
  }

  private localMsg(type: MessageType): Message {
    const m = newMsg(type, 0n);
    m.from = this.raft.id;
    return m;
  }
}
