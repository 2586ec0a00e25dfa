import type { Entry, HardState, Message, Snapshot } from '../api/raftpb/types.js';
import type { ProgressState } from './tracker/index.js';

/** The role of a node (Raft §5.1, plus etcd's pre-candidate for pre-vote). */
export enum StateType {
  StateFollower = 0,
  StateCandidate = 1,
  StateLeader = 2,
  StatePreCandidate = 3,
}

/** etcd's name of a state, e.g. `StateLeader`. */
export function stateTypeName(s: StateType): string {
  return StateType[s] ?? `StateType(${s})`;
}

/** Volatile state worth telling the host about (not persisted): who leads, and our role. */
export interface SoftState {
  /** The leader's ID, 0n when unknown. */
  lead: bigint;
  raftState: StateType;
}

/** A confirmed read: the host may serve it once it has applied up to `index`. */
export interface ReadState {
  /** The leader's commit index when the read was received. */
  index: number;
  /** The context the host gave to readIndex, to match the answer with its request. */
  requestCtx: Uint8Array;
}

/**
 * Everything the host must do after stepping the node, in order: persist `snapshot` (if any),
 * `hardState` (if any) and `entries` (fsync when mustSync), send `messages`, apply
 * `committedEntries`, serve `readStates` once applied far enough, then call advance().
 */
export interface Ready {
  /** Present only when it changed since the last Ready. */
  softState?: SoftState;
  /** Present only when it changed since the last Ready; persist before sending messages. */
  hardState?: HardState;
  /** Reads confirmed since the last Ready. */
  readStates: ReadState[];
  /** Entries to append to storage before sending messages. */
  entries: Entry[];
  /** A snapshot received from the leader, to persist (and to restore the state machine from). */
  snapshot?: Snapshot;
  /** Entries committed and not yet applied, at most maxCommittedSizePerReady bytes. */
  committedEntries: Entry[];
  /** Messages to send after persisting the above. */
  messages: Message[];
  /** Whether hardState and entries must be fsynced (term/vote changed or entries appended). */
  mustSync: boolean;
}

/** A copy of one peer's replication progress, for status reports. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
}

/** A snapshot of a node's state for monitoring; `progress` is filled only on the leader. */
export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  progress: Map<bigint, ProgressStatus>;
  /** The target of an ongoing leadership transfer, 0n when none. */
  leadTransferee: bigint;
  /** The active configuration, e.g. `voters=(1 2 3)&&(1 2) learners=(4)`. */
  config: string;
}
