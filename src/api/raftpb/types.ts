/**
 * Raft's own messages (etcd's raftpb), as plain TypeScript objects. Names and field numbers
 * follow proto/raftpb/raft.proto, the wire contract; the codec beside this file encodes them.
 * Terms and indexes are `number` (asserted safe integers); node IDs are `bigint` because etcd's
 * member IDs use all 64 bits.
 */

/** Entry.Type (field 1 of Entry). */
export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

/** A log entry. Proto fields: type=1, term=2, index=3, data=4. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** Membership as of a snapshot or the last applied conf change. Fields: voters=1, learners=2, voters_outgoing=3, learners_next=4, auto_leave=5. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  /** Voters of the outgoing config while in a joint config; empty otherwise. */
  votersOutgoing: bigint[];
  /** Learners to add when leaving the joint config (they are voters in the outgoing one). */
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** Fields: conf_state=1, index=2, term=3. */
export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/** Fields: data=1, metadata=2. */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** Message.Type, with etcd's numbering. */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

/**
 * A raft message. Fields: type=1, to=2, from=3, term=4, logTerm=5, index=6, entries=7, commit=8,
 * snapshot=9, reject=10, reject_hint=11, context=12. `snapshot` is set only on MsgSnap.
 */
export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

/** What must be persisted before messages depending on it are sent. Fields: term=1, vote=2, commit=3. */
export interface HardState {
  term: number;
  /** 0n means no vote in this term. */
  vote: bigint;
  commit: number;
}

/** ConfChangeTransition of ConfChangeV2. */
export enum ConfChangeTransition {
  ConfChangeTransitionAuto = 0,
  ConfChangeTransitionJointImplicit = 1,
  ConfChangeTransitionJointExplicit = 2,
}

/** ConfChangeType, with etcd's numbering. */
export enum ConfChangeType {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
}

/** The legacy single-change message. Fields: id=1, type=2, node_id=3, context=4. */
export interface ConfChange {
  id: bigint;
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

/** Fields: type=1, node_id=2. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/** A (possibly joint) membership change. Fields: transition=1, changes=2, context=3. An empty `changes` leaves a joint config. */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** A message with every field at its zero value but those given. */
export function newMessage(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: 0n,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    ...fields,
  };
}

/** An empty ConfState. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** An empty snapshot (index 0), used where "no snapshot" must still be a value. */
export function emptySnapshot(): Snapshot {
  return { data: EMPTY, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
}

/** Whether a hard state is the zero value (nothing to persist). */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}

/** Whether a snapshot is the empty one. */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}
