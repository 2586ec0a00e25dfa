import type { Rand } from '../pkg/rand.js';
import type { Storage } from './storage.js';

/** How read-only requests (ReadIndex) are confirmed. */
export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round to a quorum (Raft §8). The default. */
  ReadOnlySafe = 0,
  /** Trust the leader lease (check-quorum must be on); affected by clock drift. */
  ReadOnlyLeaseBased = 1,
}

/**
 * Where the raft core writes its log lines. Methods receive finished strings; the core only builds
 * them when a logger was configured, and a logger may set `debugEnabled: false` so that the
 * per-message debug lines are not even formatted.
 */
export interface RaftLogger {
  /** Per-message detail (rejections, probes, snapshots sent). */
  debug(msg: string): void;
  /** State changes: elections, terms, config switches. */
  info(msg: string): void;
  /** Unexpected but handled situations. */
  warn(msg: string): void;
  /** Malformed input that was dropped. */
  error(msg: string): void;
  /** When false, debug lines are not formatted at all (they are the frequent ones). Default true. */
  debugEnabled?: boolean;
}

/** The parameters of one raft node. Ticks are the only notion of time. */
export interface RaftConfig {
  /** This node's ID; never 0. */
  id: bigint;
  /**
   * Ticks a follower waits without hearing from a leader before campaigning; the actual timeout is
   * randomized in [electionTick, 2*electionTick). Must be > heartbeatTick (10x is suggested).
   */
  electionTick: number;
  /** Ticks between leader heartbeats; > 0. */
  heartbeatTick: number;
  /** The durable log and state this node starts from and reads entries back from. */
  storage: Storage;
  /** The last applied index when restarting; entries at or below it are not handed out again. */
  applied?: number;
  /** Max bytes of entries per MsgApp (0: one entry per message). */
  maxSizePerMsg: number;
  /** Max bytes of committed entries per Ready; defaults to maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Max bytes of uncommitted payload a leader accepts before dropping proposals; 0/absent: no limit. */
  maxUncommittedEntriesSize?: number;
  /** Max MsgApps in flight per follower while replicating; > 0. */
  maxInflightMsgs: number;
  /** Max payload bytes in flight per follower; 0/absent: no limit, else >= maxSizePerMsg. */
  maxInflightBytes?: number;
  /** Leader steps down when it has not heard from a quorum for an election timeout. */
  checkQuorum: boolean;
  /** Run a pre-vote round (Raft thesis §9.6) before bumping the term to campaign. */
  preVote: boolean;
  /** How ReadIndex requests are confirmed; lease-based needs checkQuorum. */
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** The seeded source of the randomized election timeouts. */
  rand: Rand;
  /** Where log lines go; silent when absent. */
  logger?: RaftLogger;
}

/** "No limit" for byte budgets (etcd uses math.MaxUint64). */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** A RaftConfig with every default filled in, as the core uses it. */
export interface ValidatedConfig extends RaftConfig {
  applied: number;
  maxCommittedSizePerReady: number;
  maxUncommittedEntriesSize: number;
  /** 0 means no limit. */
  maxInflightBytes: number;
  readOnlyOption: ReadOnlyOption;
  disableProposalForwarding: boolean;
}

/**
 * Checks `c` and fills in defaults. Returns etcd's error text for an invalid config.
 */
export function validateConfig(c: RaftConfig): ValidatedConfig | { error: string } {
  if (c.id === 0n) return { error: 'cannot use none as id' };
  if (!(c.heartbeatTick > 0)) return { error: 'heartbeat tick must be greater than 0' };
  if (!(c.electionTick > c.heartbeatTick)) return { error: 'election tick must be greater than heartbeat tick' };
  if (c.storage === undefined || c.storage === null) return { error: 'storage cannot be nil' };
  if (!(c.maxInflightMsgs > 0)) return { error: 'max inflight messages must be greater than 0' };
  // 0 stays 0: the tracker reads it as "no byte limit".
  const maxInflightBytes = c.maxInflightBytes ?? 0;
  if (maxInflightBytes !== 0 && maxInflightBytes < c.maxSizePerMsg) {
    return { error: 'max inflight bytes must be >= max message size' };
  }
  const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.ReadOnlySafe;
  if (readOnlyOption === ReadOnlyOption.ReadOnlyLeaseBased && !c.checkQuorum) {
    return { error: 'CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased' };
  }
  const maxUncommitted = c.maxUncommittedEntriesSize ?? 0;
  const maxCommittedPerReady = c.maxCommittedSizePerReady ?? 0;
  return {
    ...c,
    applied: c.applied ?? 0,
    maxCommittedSizePerReady: maxCommittedPerReady === 0 ? c.maxSizePerMsg : maxCommittedPerReady,
    maxUncommittedEntriesSize: maxUncommitted === 0 ? NO_LIMIT : maxUncommitted,
    maxInflightBytes,
    readOnlyOption,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
  };
}
