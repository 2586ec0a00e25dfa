import type { ConfChangeV2, ConfState, Entry, HardState, Message, Snapshot } from '../api/raftpb/types.js';
import { EntryType, MessageType, isEmptyHardState } from '../api/raftpb/types.js';
import type { Rand } from '../pkg/rand.js';
import {
  Changer,
  confChangesToString,
  confChangeToV2,
  confStateEquivalent,
  describeConfState,
  enterJoint,
  leaveJoint,
  restore,
} from './confchange/index.js';
import type { RaftConfig, RaftLogger } from './config.js';
import { NO_LIMIT, ReadOnlyOption, validateConfig } from './config.js';
import { unmarshalConfChange, unmarshalConfChangeV2 } from './conf-change-codec.js';
import { numOfPendingConf, payloadsSize } from './entries.js';
import type { StepError } from './errors.js';
import { fail } from './errors.js';
import { hexId, silentLogger } from './logger.js';
import { copyMsg, messageTypeName, newMsg, voteRespMsgType } from './messages.js';
import { VoteResult } from './quorum/index.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import type { ReadState, SoftState } from './ready.js';
import { StateType, stateTypeName } from './ready.js';
import { describeTrackerConfig, Inflights, ProgressState, ProgressTracker } from './tracker/index.js';
import type { Progress, TrackerConfig } from './tracker/index.js';
import { bytesEqual } from '../pkg/bytes.js';

/** Why a node campaigns. */
type CampaignType = 'CampaignPreElection' | 'CampaignElection' | 'CampaignTransfer';

// The context of a vote request sent because of a leadership transfer: such votes bypass the
// leader lease (the old leader asked for them).
const CAMPAIGN_TRANSFER_CTX = new Uint8Array([...'CampaignTransfer'].map((c) => c.charCodeAt(0)));
const EMPTY_BYTES = new Uint8Array(0);

/**
 * One raft node's consensus state machine (Raft §5, §6, §7, §8 and the etcd extensions: pre-vote,
 * check-quorum, leader transfer, learners, joint consensus). Synchronous and deterministic: input
 * arrives through step() and tick(), output accumulates in `msgs`, `readStates` and the log; the
 * RawNode turns it into Readys. Not for direct use by hosts: use RawNode.
 */
export class Raft {
  /** This node's ID. */
  readonly id: bigint;
  /** Current term (Raft §5.1). Persisted. */
  term = 0;
  /** Who we voted for in this term, 0n for nobody. Persisted. */
  vote = 0n;
  /** Confirmed reads not yet handed out in a Ready. */
  readStates: ReadState[] = [];
  /** The log: storage plus unstable tail, with commit and applied cursors. */
  readonly raftLog: RaftLog;
  /** Progress, config and votes. Replaced wholesale when a snapshot restores the config. */
  trk: ProgressTracker;
  /** Our role. */
  state: StateType = StateType.StateFollower;
  /** Whether this node is a learner in the active config. */
  isLearner = false;
  /** Outgoing messages not yet handed out in a Ready. */
  msgs: Message[] = [];
  /** The leader of the current term as far as we know, 0n when unknown. */
  lead = 0n;
  /** The target of a leadership transfer in progress (Raft thesis §3.10), 0n when none. */
  leadTransferee = 0n;
  /**
   * Only one conf change may be pending (in the log, not applied) at a time: proposals of conf
   * changes are refused while applied < pendingConfIndex.
   */
  pendingConfIndex = 0;
  /** Payload bytes of the uncommitted tail (leader only, when a limit is configured). */
  uncommittedSize = 0;
  /** Pending read-only requests (leader, safe mode). */
  readOnly: ReadOnly;
  /**
   * Ticks since the last election timeout (leader, candidate) or since a valid message from the
   * current leader (follower).
   */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  /** See RaftConfig.checkQuorum. */
  readonly checkQuorum: boolean;
  /** See RaftConfig.preVote. */
  readonly preVote: boolean;
  /** Ticks between heartbeats. */
  readonly heartbeatTimeout: number;
  /** The base election timeout in ticks. */
  readonly electionTimeout: number;
  /** A value in [electionTimeout, 2*electionTimeout), redrawn on every state change. */
  randomizedElectionTimeout = 0;
  /** See RaftConfig.disableProposalForwarding. */
  readonly disableProposalForwarding: boolean;
  /**
   * MsgReadIndex requests received before this leader committed an entry of its term: the read
   * index cannot be known before that (Raft §8), so they wait.
   */
  pendingReadIndexMessages: Message[] = [];
  /** Where log lines go. */
  readonly logger: RaftLogger;

  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  private readonly maxInflight: number;
  private readonly maxInflightBytes: number;
  private readonly rand: Rand;
  // Whether log lines are built at all (a logger was configured), and debug lines too.
  private readonly logOn: boolean;
  private readonly debugOn: boolean;

  // The peers other than us in ascending ID order, with their progress, cached for broadcasts
  // (the hot path) and rebuilt whenever the progress map is replaced (config change, snapshot).
  private peersOf: Map<bigint, Progress> | undefined = undefined;
  private peerIds: bigint[] = [];
  private peerPrs: Progress[] = [];

  /** Builds a node from config, restoring term, vote, commit and membership from its storage. */
  constructor(config: RaftConfig) {
    const c = validateConfig(config);
    if ('error' in c) throw new Error(c.error);
    this.id = c.id;
    this.logger = c.logger ?? silentLogger;
    this.logOn = c.logger !== undefined;
    this.debugOn = this.logOn && c.logger!.debugEnabled !== false;
    this.raftLog = new RaftLog(c.storage, this.logger, this.logOn, c.maxCommittedSizePerReady);
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.maxInflight = c.maxInflightMsgs;
    this.maxInflightBytes = c.maxInflightBytes;
    this.trk = new ProgressTracker(this.maxInflight, this.maxInflightBytes);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.readOnly = new ReadOnly(c.readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.rand = c.rand;

    const { hardState, confState } = c.storage.initialState();
    this.restoreConfig(confState);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, 0n);

    if (this.logOn) {
      const peers = this.trk.voterNodes().map(hexId).join(',');
      this.logger.info(
        `newRaft ${hexId(this.id)} [peers: [${peers}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
      );
    }
  }

  /** Whether a leader is known. */
  hasLeader(): boolean {
    return this.lead !== 0n;
  }

  /** The current soft state (a new object). */
  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  /** The current hard state (a new object). */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  // Queues m for the next Ready, stamping our ID and (except for forwarded proposals and reads)
  // the current term; vote messages carry their own term.
  private send(m: Message): void {
    if (m.from === 0n) m.from = this.id;
    const t = m.type;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      // Campaign messages carry the term being campaigned for, which is never 0.
      if (m.term === 0) fail(`term should be set when sending ${messageTypeName(t)}`);
    } else {
      if (m.term !== 0) fail(`term should not be set when sending ${messageTypeName(t)} (was ${m.term})`);
      // Proposals and reads are forwarded to the leader like local messages: no term.
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (with entries if any, else just the commit index) to peer `to`. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends an append to `to` unless its progress is paused; with sendIfEmpty false only when
   * there are entries to send. Falls back to a snapshot when the needed entries are compacted.
   * Returns whether a message was sent.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    return this.maybeSendAppendTo(to, this.trk.progress.get(to)!, sendIfEmpty);
  }

  private maybeSendAppendTo(to: bigint, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const term = this.raftLog.term(prevIndex);
    const ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    if (typeof ents !== 'string' && ents.length === 0 && !sendIfEmpty) return false;
    if (typeof term === 'string' || typeof ents === 'string') return this.sendSnapshot(to, pr);

    const m = newMsg(MessageType.MsgApp, to);
    m.index = prevIndex;
    m.logTerm = term;
    m.entries = ents;
    m.commit = this.raftLog.committed;
    const n = ents.length;
    if (n !== 0) {
      if (pr.state === ProgressState.StateSnapshot) fail(`${hexId(this.id)} is sending append in unhandled state ${pr.state}`);
      // Replicate: next moves past the entries and they enter the inflights window.
      // Probe: further probes wait for an answer.
      pr.sentEntries(n, this.maxInflightBytes === 0 ? 0 : payloadsSize(ents));
    }
    this.send(m);
    return true;
  }

  // The follower needs entries we no longer have: send the snapshot instead (Raft §7).
  private sendSnapshot(to: bigint, pr: Progress): boolean {
    if (!pr.recentActive) {
      if (this.debugOn) this.logger.debug(`ignore sending snapshot to ${hexId(to)} since it is not recently active`);
      return false;
    }
    const snap = this.raftLog.snapshot();
    if (typeof snap === 'string') {
      if (snap === 'snapshot-temporarily-unavailable') {
        if (this.debugOn) this.logger.debug(`${hexId(this.id)} failed to send snapshot to ${hexId(to)} because snapshot is temporarily unavailable`);
        return false;
      }
      return fail(`unexpected error getting the snapshot: ${snap}`);
    }
    if (snap.metadata.index === 0) fail('need non-empty snapshot');
    const { index: sindex, term: sterm } = snap.metadata;
    if (this.debugOn) {
      this.logger.debug(
        `${hexId(this.id)} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${sindex}, term: ${sterm}] to ${hexId(to)} [${pr.toString()}]`,
      );
    }
    pr.becomeSnapshot(sindex);
    if (this.debugOn) this.logger.debug(`${hexId(this.id)} paused sending replication messages to ${hexId(to)} [${pr.toString()}]`);
    const m = newMsg(MessageType.MsgSnap, to);
    m.snapshot = snap;
    this.send(m);
    return true;
  }

  // A heartbeat carries commit = min(match, committed): the follower may not have our log past
  // match, and must never commit an index it does not hold.
  private sendHeartbeat(to: bigint, ctx: Uint8Array): void {
    const pr = this.trk.progress.get(to)!;
    const m = newMsg(MessageType.MsgHeartbeat, to);
    m.commit = Math.min(pr.match, this.raftLog.committed);
    m.context = ctx;
    this.send(m);
  }

  /** Sends appends to every peer whose progress allows it. */
  bcastAppend(): void {
    this.refreshPeers();
    const ids = this.peerIds;
    const prs = this.peerPrs;
    for (let i = 0; i < ids.length; i++) this.maybeSendAppendTo(ids[i]!, prs[i]!, true);
  }

  private refreshPeers(): void {
    const progress = this.trk.progress;
    if (this.peersOf === progress) return;
    const ids: bigint[] = [];
    const prs: Progress[] = [];
    this.trk.visit((id, pr) => {
      if (id === this.id) return;
      ids.push(id);
      prs.push(pr);
    });
    this.peersOf = progress;
    this.peerIds = ids;
    this.peerPrs = prs;
  }

  /** Sends heartbeats to every peer, carrying the newest pending read's context (if any). */
  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES);
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    });
  }

  /**
   * Takes note that the host persisted and applied what a Ready handed out: the last persisted
   * entry (index and term), the persisted snapshot index, and the applied entries. Also starts the
   * automatic leave of a joint config once it has been applied on the leader.
   */
  advance(lastEntry: Entry | undefined, snapshotIndex: number, committedEntries: readonly Entry[]): void {
    this.reduceUncommittedSize(committedEntries);
    const n = committedEntries.length;
    const newApplied = n > 0 ? committedEntries[n - 1]!.index : snapshotIndex;
    if (newApplied > 0) {
      this.raftLog.appliedTo(newApplied);
      if (this.trk.config.autoLeave && newApplied >= this.pendingConfIndex && this.state === StateType.StateLeader) {
        // The joint config is applied: propose leaving it. Empty data decodes as the empty
        // ConfChangeV2 and has payload size 0, so the uncommitted-size limit cannot refuse it.
        // A leadership transfer in progress can: then this is retried on the next advance.
        const m = this.localMsg(MessageType.MsgProp);
        m.entries = [{ term: 0, index: 0, type: EntryType.EntryConfChangeV2, data: EMPTY_BYTES }];
        const err = this.step(m);
        if (err !== undefined) {
          if (this.debugOn) {
            this.logger.debug(`not initiating automatic transition out of joint configuration ${describeTrackerConfig(this.trk.config)}: ${err}`);
          }
        } else if (this.logOn) {
          this.logger.info(`initiating automatic transition out of joint configuration ${describeTrackerConfig(this.trk.config)}`);
        }
      }
    }
    if (lastEntry !== undefined) this.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (snapshotIndex > 0) this.raftLog.stableSnapTo(snapshotIndex);
  }

  /**
   * Advances the commit index to what a quorum has replicated, if that entry is of the current
   * term (Raft §5.4.2). Returns whether it moved (the caller then broadcasts it).
   */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  // Resets the volatile state for a new role in `term`; the vote survives only within a term.
  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0n;
    }
    this.lead = 0n;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.state = ProgressState.StateProbe;
      pr.pendingSnapshot = 0;
      pr.recentActive = false;
      pr.msgAppFlowPaused = false;
      pr.inflights = new Inflights(this.maxInflight, this.maxInflightBytes);
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    // Reads waiting for a commit in a term we are leaving cannot be answered by us any more; the
    // host retries them (as it does for any read dropped with a lost message).
    this.pendingReadIndexMessages = [];
  }

  /**
   * Appends entries proposed to this leader at its term, unless the uncommitted-size limit
   * refuses them. The leader counts its own append right away.
   */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      e.term = this.term;
      e.index = li + 1 + i;
    }
    if (!this.increaseUncommittedSize(es)) {
      if (this.logOn) this.logger.warn(`${hexId(this.id)} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(es);
    this.trk.progress.get(this.id)!.maybeUpdate(li);
    // The caller broadcasts whatever maybeCommit decides.
    this.maybeCommit();
    return true;
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.state === StateType.StateLeader) this.tickHeartbeat();
    else this.tickElection();
  }

  // Followers and candidates: campaign when the randomized election timeout passes (Raft §5.2).
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(this.localMsg(MessageType.MsgHup));
    }
  }

  // Leaders: heartbeat every heartbeatTimeout, check quorum and give up a stuck transfer every
  // electionTimeout.
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(this.localMsg(MessageType.MsgCheckQuorum));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.StateLeader && this.leadTransferee !== 0n) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.StateLeader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(this.localMsg(MessageType.MsgBeat));
    }
  }

  private localMsg(type: MessageType): Message {
    const m = newMsg(type, 0n);
    m.from = this.id;
    return m;
  }

  /** Becomes a follower of `lead` (0n: unknown) in `term`. */
  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.StateFollower;
    if (this.logOn) this.logger.info(`${hexId(this.id)} became follower at term ${this.term}`);
  }

  /** Becomes a candidate: a new term, voting for itself (Raft §5.2). */
  becomeCandidate(): void {
    if (this.state === StateType.StateLeader) fail('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    if (this.logOn) this.logger.info(`${hexId(this.id)} became candidate at term ${this.term}`);
  }

  /** Becomes a pre-candidate: polls for term+1 without changing term or vote (pre-vote). */
  becomePreCandidate(): void {
    if (this.state === StateType.StateLeader) fail('invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = 0n;
    this.state = StateType.StatePreCandidate;
    if (this.logOn) this.logger.info(`${hexId(this.id)} became pre-candidate at term ${this.term}`);
  }

  /** Becomes leader of the current term and appends an empty entry of it (Raft §8: commits earlier entries). */
  becomeLeader(): void {
    if (this.state === StateType.StateFollower) fail('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.StateLeader;
    // The leader trivially replicates to itself and always counts as active.
    const self = this.trk.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // There may be an unapplied conf change in the tail of the log; refuse new ones until
    // everything up to here is applied (cheaper than scanning the tail).
    this.pendingConfIndex = this.raftLog.lastIndex();
    const empty: Entry = { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES };
    if (!this.appendEntry([empty])) fail('empty entry was dropped');
    // The empty entry does not count towards the uncommitted-size limit, so that one proposal of
    // any size is always accepted when nothing else is pending.
    this.uncommittedSize = 0;
    if (this.logOn) this.logger.info(`${hexId(this.id)} became leader at term ${this.term}`);
  }

  // Starts an election (or pre-election) if this node may: not already leader, promotable, and
  // no conf change committed but not yet applied (its effect on the voters is unknown).
  private hup(t: CampaignType): void {
    if (this.state === StateType.StateLeader) {
      if (this.debugOn) this.logger.debug(`${hexId(this.id)} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      if (this.logOn) this.logger.warn(`${hexId(this.id)} is unpromotable and can not campaign`);
      return;
    }
    if (this.raftLog.committed > this.raftLog.applied) {
      const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, NO_LIMIT);
      if (typeof ents === 'string') fail(`unexpected error getting unapplied entries (${ents})`);
      const n = numOfPendingConf(ents);
      if (n !== 0) {
        if (this.logOn) {
          this.logger.warn(`${hexId(this.id)} cannot campaign at term ${this.term} since there are still ${n} pending configuration changes to apply`);
        }
        return;
      }
    }
    if (this.logOn) this.logger.info(`${hexId(this.id)} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  // Becomes (pre-)candidate and requests votes from every voter. A single voter wins at once.
  private campaign(t: CampaignType): void {
    if (!this.promotable() && this.logOn) {
      this.logger.warn(`${hexId(this.id)} is unpromotable; campaign() should have been called`);
    }
    let term: number;
    let voteMsg: MessageType;
    if (t === 'CampaignPreElection') {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // Pre-votes ask for the term we would campaign in, without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespMsgType(voteMsg), true).result === VoteResult.VoteWon) {
      // Our own vote is a quorum: a single-voter config.
      if (t === 'CampaignPreElection') this.campaign('CampaignElection');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterNodes()) {
      if (id === this.id) continue;
      if (this.logOn) {
        this.logger.info(
          `${hexId(this.id)} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${messageTypeName(voteMsg)} request to ${hexId(id)} at term ${this.term}`,
        );
      }
      const m = newMsg(voteMsg, id);
      m.term = term;
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (t === 'CampaignTransfer') m.context = CAMPAIGN_TRANSFER_CTX;
      this.send(m);
    }
  }

  private poll(id: bigint, t: MessageType, granted: boolean): { granted: number; rejected: number; result: VoteResult } {
    if (this.logOn) {
      this.logger.info(
        granted
          ? `${hexId(this.id)} received ${messageTypeName(t)} from ${hexId(id)} at term ${this.term}`
          : `${hexId(this.id)} received ${messageTypeName(t)} rejection from ${hexId(id)} at term ${this.term}`,
      );
    }
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  /**
   * Handles one message: the term rules of Raft §5.1 (and etcd's lease and pre-vote refinements)
   * first, then votes, then the role-specific handling.
   */
  step(m: Message): StepError | undefined {
    if (m.term === 0) {
      // A local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CTX);
        const inLease = this.checkQuorum && this.lead !== 0n && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Raft §6 / thesis §4.2.3: within the minimum election timeout of hearing from a leader,
          // neither update the term nor grant a vote; this keeps removed or partitioned nodes from
          // disrupting a healthy leader.
          if (this.logOn) {
            this.logger.info(
              `${hexId(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hexId(this.vote)}] ignored ${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
            );
          }
          return undefined;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change the term because of a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the term we will campaign in; the term moves when a quorum
        // granted. A rejection carries the rejecter's term, which we adopt below.
      } else {
        if (this.logOn) {
          this.logger.info(
            `${hexId(this.id)} [term: ${this.term}] received a ${messageTypeName(m.type)} message with higher term from ${hexId(m.from)} [term: ${m.term}]`,
          );
        }
        // Raft §5.1: a higher term makes us a follower; appends, heartbeats and snapshots come
        // from that term's leader.
        if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, 0n);
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A leader of an older term is talking to us: we may have bumped our term while
        // partitioned (without pre-vote) and now ignore votes because of the lease. Answering
        // with our term makes that leader step down so an election can bring us back in.
        this.send(newMsg(MessageType.MsgAppResp, m.from));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject explicitly, so a pre-candidate with a stale term learns ours and does not
        // deadlock the cluster after a rolling upgrade to pre-vote.
        if (this.logOn) {
          this.logger.info(
            `${hexId(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hexId(this.vote)}] rejected ${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
        }
        const resp = newMsg(MessageType.MsgPreVoteResp, m.from);
        resp.term = this.term;
        resp.reject = true;
        this.send(resp);
      } else if (this.logOn) {
        this.logger.info(
          `${hexId(this.id)} [term: ${this.term}] ignored a ${messageTypeName(m.type)} message with lower term from ${hexId(m.from)} [term: ${m.term}]`,
        );
      }
      return undefined;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? 'CampaignPreElection' : 'CampaignElection');
        return undefined;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        this.handleVote(m);
        return undefined;
      default:
        switch (this.state) {
          case StateType.StateLeader:
            return this.stepLeader(m);
          case StateType.StateCandidate:
          case StateType.StatePreCandidate:
            return this.stepCandidate(m);
          default:
            return this.stepFollower(m);
        }
    }
  }

  private handleVote(m: Message): void {
    // We can vote if this repeats a vote we cast, or we have not voted and know no leader in
    // this term (Raft §5.2: one vote per term), or it is a pre-vote for a future term.
    const canVote =
      this.vote === m.from ||
      (this.vote === 0n && this.lead === 0n) ||
      (m.type === MessageType.MsgPreVote && m.term > this.term);
    // ...and the candidate's log is at least as up-to-date as ours (Raft §5.4.1). Learners vote
    // too: one may have been promoted without knowing it yet.
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      if (this.logOn) {
        this.logger.info(
          `${hexId(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hexId(this.vote)}] cast ${messageTypeName(m.type)} for ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
      }
      // Answer with the request's term, not ours: for a pre-vote ours may be older, and the
      // pre-candidate ignores responses of older terms.
      const resp = newMsg(voteRespMsgType(m.type), m.from);
      resp.term = m.term;
      this.send(resp);
      if (m.type === MessageType.MsgVote) {
        // Only real votes are recorded.
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      if (this.logOn) {
        this.logger.info(
          `${hexId(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hexId(this.vote)}] rejected ${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
      }
      const resp = newMsg(voteRespMsgType(m.type), m.from);
      resp.term = this.term;
      resp.reject = true;
      this.send(resp);
    }
  }

  private stepLeader(m: Message): StepError | undefined {
    // These message types need no progress for m.from.
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return undefined;
      case MessageType.MsgCheckQuorum: {
        // The leader always sees itself as active (if it is still in the config).
        const self = this.trk.progress.get(this.id);
        if (self !== undefined) self.recentActive = true;
        if (!this.trk.quorumActive()) {
          if (this.logOn) this.logger.warn(`${hexId(this.id)} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, 0n);
        }
        // Start the next round: everyone but us must be heard from again.
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return undefined;
      }
      case MessageType.MsgProp:
        return this.handlePropose(m);
      case MessageType.MsgReadIndex:
        // A single voter confirms its own leadership.
        if (this.trk.isSingleton()) {
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp !== undefined) this.send(resp);
          return undefined;
        }
        // Until an entry of this term is committed the leader does not know the commit index
        // (Raft §8): postpone.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return undefined;
        }
        this.sendMsgReadIndexResponse(m);
        return undefined;
    }

    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) {
      if (this.debugOn) this.logger.debug(`${hexId(this.id)} no progress available for ${hexId(m.from)}`);
      return undefined;
    }
    switch (m.type) {
      case MessageType.MsgAppResp:
        pr.recentActive = true;
        if (m.reject) this.handleAppendRejection(m, pr);
        else this.handleAppendSuccess(m, pr);
        return undefined;
      case MessageType.MsgHeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return undefined;
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.StateSnapshot) return undefined;
        if (!m.reject) {
          pr.becomeProbe();
          if (this.debugOn) this.logger.debug(`${hexId(this.id)} snapshot succeeded, resumed sending replication messages to ${hexId(m.from)} [${pr.toString()}]`);
        } else {
          // Clear the pending snapshot first, or probing would start past a snapshot that never
          // arrived.
          pr.pendingSnapshot = 0;
          pr.becomeProbe();
          if (this.debugOn) this.logger.debug(`${hexId(this.id)} snapshot failed, resumed sending replication messages to ${hexId(m.from)} [${pr.toString()}]`);
        }
        // Success: wait for the follower's MsgAppResp before the next append. Failure: wait a
        // heartbeat interval before trying again.
        pr.msgAppFlowPaused = true;
        return undefined;
      case MessageType.MsgUnreachable:
        // An optimistic append to an unreachable peer was probably lost.
        if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
        if (this.debugOn) this.logger.debug(`${hexId(this.id)} failed to send message to ${hexId(m.from)} because it is unreachable [${pr.toString()}]`);
        return undefined;
      case MessageType.MsgTransferLeader:
        this.handleTransferLeader(m, pr);
        return undefined;
    }
    return undefined;
  }

  private handlePropose(m: Message): StepError | undefined {
    if (m.entries.length === 0) fail(`${hexId(this.id)} stepped empty MsgProp`);
    // A leader removed from the config takes no proposals.
    if (!this.trk.progress.has(this.id)) return 'proposal-dropped';
    if (this.leadTransferee !== 0n) {
      if (this.debugOn) {
        this.logger.debug(`${hexId(this.id)} [term ${this.term}] transfer leadership to ${hexId(this.leadTransferee)} is in progress; dropping proposal`);
      }
      return 'proposal-dropped';
    }
    let ents = m.entries;
    if (m.from !== this.id && m.from !== 0n) {
      // A proposal forwarded by a peer: appendEntry stamps term and index into the entries, so
      // work on copies rather than on objects a sender (or a duplicate message) may share.
      ents = new Array<Entry>(m.entries.length);
      for (let i = 0; i < ents.length; i++) {
        const e = m.entries[i]!;
        ents[i] = { term: 0, index: 0, type: e.type, data: e.data };
      }
    }
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (e.type === EntryType.EntryNormal) continue;
      let cc: ConfChangeV2;
      if (e.type === EntryType.EntryConfChange) cc = confChangeToV2(unmarshalConfChange(e.data));
      else if (e.type === EntryType.EntryConfChangeV2) cc = unmarshalConfChangeV2(e.data);
      else continue;
      const alreadyPending = this.pendingConfIndex > this.raftLog.applied;
      const alreadyJoint = this.trk.config.voters.outgoing.ids.size > 0;
      const wantsLeaveJoint = cc.changes.length === 0;
      let refused = '';
      if (alreadyPending) {
        refused = `possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`;
      } else if (alreadyJoint && !wantsLeaveJoint) {
        refused = 'must transition out of joint config first';
      } else if (!alreadyJoint && wantsLeaveJoint) {
        refused = 'not in joint state; refusing empty conf change';
      }
      if (refused !== '') {
        // One conf change at a time (Raft thesis §4.1): the refused one becomes an empty
        // normal entry, so the proposal's entries keep their positions.
        if (this.logOn) {
          this.logger.info(`${hexId(this.id)} ignoring conf change ${confChangesToString(cc.changes)} at config ${describeTrackerConfig(this.trk.config)}: ${refused}`);
        }
        if (ents === m.entries) ents = ents.slice();
        ents[i] = { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES };
      } else {
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      }
    }
    if (!this.appendEntry(ents)) return 'proposal-dropped';
    this.bcastAppend();
    return undefined;
  }

  private handleAppendRejection(m: Message, pr: Progress): void {
    if (this.debugOn) {
      this.logger.debug(
        `${hexId(this.id)} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${hexId(m.from)} for index ${m.index}`,
      );
    }
    // rejectHint is where the follower's log may match ours (its last index, or the last index
    // of a term <= the probe's), logTerm its term there. Every index of ours in between whose
    // term is above logTerm cannot match either, so skip them: at most one probe per term.
    let nextProbeIdx = m.rejectHint;
    if (m.logTerm > 0) nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
    if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
      if (this.debugOn) this.logger.debug(`${hexId(this.id)} decreased progress of ${hexId(m.from)} to [${pr.toString()}]`);
      if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
      this.sendAppend(m.from);
    }
  }

  private handleAppendSuccess(m: Message, pr: Progress): void {
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    switch (pr.state) {
      case ProgressState.StateProbe:
        pr.becomeReplicate();
        break;
      case ProgressState.StateSnapshot:
        // The follower caught up past the snapshot (or reconnected to our log some other way):
        // back to replicating, through probe so that next accounts for the snapshot.
        if (pr.match >= pr.pendingSnapshot || pr.match + 1 >= this.raftLog.firstIndex()) {
          if (this.debugOn) this.logger.debug(`${hexId(this.id)} recovered from needing snapshot, resumed sending replication messages to ${hexId(m.from)} [${pr.toString()}]`);
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.StateReplicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    // Only an ack beyond the commit index can move it (and acks mostly trail it): skip the
    // quorum computation otherwise.
    if (pr.match > this.raftLog.committed && this.maybeCommit()) {
      // An entry of this term is committed now: postponed reads can be answered.
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      // The follower may be missing the latest commit index while it was paused.
      this.sendAppend(m.from);
    }
    // The window may have opened for several messages (probe to replicate, or several freed):
    // send as many as allowed, without empty ones.
    while (this.maybeSendAppendTo(m.from, pr, false)) {
      // keep sending
    }
    // A transfer waits for the transferee to catch up (Raft thesis §3.10).
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      if (this.logOn) this.logger.info(`${hexId(this.id)} sent MsgTimeoutNow to ${hexId(m.from)} after received MsgAppResp`);
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeAcked();
    if (pr.state === ProgressState.StateReplicate && pr.inflights.full()) {
      // A full window whose appends were all lost would stall replication for good: send an
      // empty append at next-1, whose answer (ack or rejection) frees or resets the window.
      const prevIndex = pr.next - 1;
      const t = prevIndex >= this.raftLog.firstIndex() - 1 ? this.raftLog.term(prevIndex) : 'compacted';
      if (typeof t === 'number') {
        const app = newMsg(MessageType.MsgApp, m.from);
        app.index = prevIndex;
        app.logTerm = t;
        app.commit = this.raftLog.committed;
        this.send(app);
      } else {
        // The window's entries were compacted meanwhile: probe again (which sends a snapshot).
        pr.becomeProbe();
        this.sendAppend(m.from);
      }
    } else if (pr.match < this.raftLog.lastIndex()) {
      this.sendAppend(m.from);
    }
    if (this.readOnly.option !== ReadOnlyOption.ReadOnlySafe || m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined || this.trk.config.voters.voteResult(acks) !== VoteResult.VoteWon) return;
    // A quorum confirmed we were still leader when this read (and those before it) arrived.
    for (const rs of this.readOnly.advance(m)) {
      const resp = this.responseToReadIndexReq(rs.req, rs.index);
      if (resp !== undefined) this.send(resp);
    }
  }

  private handleTransferLeader(m: Message, pr: Progress): void {
    if (pr.isLearner) {
      if (this.debugOn) this.logger.debug(`${hexId(this.id)} is learner. Ignored transferring leadership`);
      return;
    }
    const leadTransferee = m.from;
    const last = this.leadTransferee;
    if (last !== 0n) {
      if (last === leadTransferee) {
        if (this.logOn) {
          this.logger.info(
            `${hexId(this.id)} [term ${this.term}] transfer leadership to ${hexId(leadTransferee)} is in progress, ignores request to same node ${hexId(leadTransferee)}`,
          );
        }
        return;
      }
      this.abortLeaderTransfer();
      if (this.logOn) this.logger.info(`${hexId(this.id)} [term ${this.term}] abort previous transferring leadership to ${hexId(last)}`);
    }
    if (leadTransferee === this.id) {
      if (this.debugOn) this.logger.debug(`${hexId(this.id)} is already leader. Ignored transferring leadership to self`);
      return;
    }
    if (this.logOn) this.logger.info(`${hexId(this.id)} [term ${this.term}] starts to transfer leadership to ${hexId(leadTransferee)}`);
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = leadTransferee;
    if (pr.match === this.raftLog.lastIndex()) {
      this.sendTimeoutNow(leadTransferee);
      if (this.logOn) {
        this.logger.info(`${hexId(this.id)} sends MsgTimeoutNow to ${hexId(leadTransferee)} immediately as ${hexId(leadTransferee)} already has up-to-date log`);
      }
    } else {
      this.sendAppend(leadTransferee);
    }
  }

  // Shared by candidates and pre-candidates; each only counts its own kind of vote response
  // (a candidate may still get stale pre-vote responses of this term).
  private stepCandidate(m: Message): StepError | undefined {
    const myVoteRespType = this.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.logOn) this.logger.info(`${hexId(this.id)} no leader at term ${this.term}; dropping proposal`);
        return 'proposal-dropped';
      case MessageType.MsgApp:
        // A leader of our term exists (m.term === term here): follow it.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return undefined;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return undefined;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return undefined;
      case myVoteRespType: {
        const { granted, rejected, result } = this.poll(m.from, m.type, !m.reject);
        if (this.logOn) {
          this.logger.info(`${hexId(this.id)} has received ${granted} ${messageTypeName(m.type)} votes and ${rejected} vote rejections`);
        }
        if (result === VoteResult.VoteWon) {
          if (this.state === StateType.StatePreCandidate) {
            this.campaign('CampaignElection');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.VoteLost) {
          // A pre-vote response carries our future term; stay in ours.
          this.becomeFollower(this.term, 0n);
        }
        return undefined;
      }
      case MessageType.MsgTimeoutNow:
        if (this.debugOn) {
          this.logger.debug(`${hexId(this.id)} [term ${this.term} state ${stateTypeName(this.state)}] ignored MsgTimeoutNow from ${hexId(m.from)}`);
        }
        return undefined;
    }
    return undefined;
  }

  private stepFollower(m: Message): StepError | undefined {
    switch (m.type) {
      case MessageType.MsgProp: {
        if (this.lead === 0n) {
          if (this.logOn) this.logger.info(`${hexId(this.id)} no leader at term ${this.term}; dropping proposal`);
          return 'proposal-dropped';
        }
        if (this.disableProposalForwarding) {
          if (this.logOn) this.logger.info(`${hexId(this.id)} not forwarding to leader ${hexId(this.lead)} at term ${this.term}; dropping proposal`);
          return 'proposal-dropped';
        }
        const fwd = copyMsg(m);
        fwd.to = this.lead;
        this.send(fwd);
        return undefined;
      }
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return undefined;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return undefined;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return undefined;
      case MessageType.MsgTransferLeader: {
        if (this.lead === 0n) {
          if (this.logOn) this.logger.info(`${hexId(this.id)} no leader at term ${this.term}; dropping leader transfer msg`);
          return undefined;
        }
        const fwd = copyMsg(m);
        fwd.to = this.lead;
        this.send(fwd);
        return undefined;
      }
      case MessageType.MsgTimeoutNow:
        if (this.promotable()) {
          if (this.logOn) {
            this.logger.info(`${hexId(this.id)} [term ${this.term}] received MsgTimeoutNow from ${hexId(m.from)} and starts an election to get leadership.`);
          }
          // Transfers skip pre-vote: the leader asked for this election, there is no partition
          // to recover from.
          this.hup('CampaignTransfer');
        } else if (this.logOn) {
          this.logger.info(`${hexId(this.id)} received MsgTimeoutNow from ${hexId(m.from)} but is not promotable`);
        }
        return undefined;
      case MessageType.MsgReadIndex: {
        if (this.lead === 0n) {
          if (this.logOn) this.logger.info(`${hexId(this.id)} no leader at term ${this.term}; dropping index reading msg`);
          return undefined;
        }
        const fwd = copyMsg(m);
        fwd.to = this.lead;
        this.send(fwd);
        return undefined;
      }
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) {
          if (this.logOn) this.logger.error(`${hexId(this.id)} invalid format of MsgReadIndexResp from ${hexId(m.from)}, entries count: ${m.entries.length}`);
          return undefined;
        }
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return undefined;
    }
    return undefined;
  }

  // AppendEntries receiver (Raft §5.3): accept if our log has (index, logTerm), else reject with
  // a hint for fast backtracking.
  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is known to match: tell the leader where we are.
      const resp = newMsg(MessageType.MsgAppResp, m.from);
      resp.index = this.raftLog.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      const resp = newMsg(MessageType.MsgAppResp, m.from);
      resp.index = lastNew;
      this.send(resp);
      return;
    }
    if (this.debugOn) {
      this.logger.debug(
        `${hexId(this.id)} [logterm: ${this.raftLog.zeroTermOnErrCompacted(this.raftLog.term(m.index))}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${hexId(m.from)}`,
      );
    }
    // Hint the largest (index, term) at or below the probe whose term is <= the probe's term:
    // our entries above it with higher terms cannot match the leader's log.
    let hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    hintIndex = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    const hintTerm = this.raftLog.term(hintIndex);
    if (typeof hintTerm === 'string') fail(`term(${hintIndex}) must be valid, but got ${hintTerm}`);
    const resp = newMsg(MessageType.MsgAppResp, m.from);
    resp.index = m.index;
    resp.reject = true;
    resp.rejectHint = hintIndex;
    resp.logTerm = hintTerm;
    this.send(resp);
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends commit <= our match, so this never commits past our log.
    this.raftLog.commitTo(m.commit);
    const resp = newMsg(MessageType.MsgHeartbeatResp, m.from);
    resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    const sindex = s?.metadata.index ?? 0;
    const sterm = s?.metadata.term ?? 0;
    if (s !== undefined && this.restore(s)) {
      if (this.logOn) this.logger.info(`${hexId(this.id)} [commit: ${this.raftLog.committed}] restored snapshot [index: ${sindex}, term: ${sterm}]`);
      const resp = newMsg(MessageType.MsgAppResp, m.from);
      resp.index = this.raftLog.lastIndex();
      this.send(resp);
    } else {
      if (this.logOn) this.logger.info(`${hexId(this.id)} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${sindex}, term: ${sterm}]`);
      const resp = newMsg(MessageType.MsgAppResp, m.from);
      resp.index = this.raftLog.committed;
      this.send(resp);
    }
  }

  /**
   * Installs snapshot s (Raft §7): the log restarts at it and the config becomes its ConfState.
   * Returns false when it was ignored: not newer than our commit index, we are not a follower,
   * we are not in its config, or our log already has its last entry (then we just commit to it).
   */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== StateType.StateFollower) {
      // Defense in depth: only followers receive snapshots. Move to a new term rather than
      // risk a leader replacing its log.
      if (this.logOn) this.logger.warn(`${hexId(this.id)} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, 0n);
      return false;
    }
    const cs = s.metadata.confState;
    // Much of the core assumes this node is tracked; a snapshot without us is not for us.
    const found = cs.voters.includes(this.id) || cs.learners.includes(this.id) || cs.votersOutgoing.includes(this.id);
    if (!found) {
      if (this.logOn) {
        this.logger.warn(`${hexId(this.id)} attempted to restore snapshot but it is not in the ConfState ${describeConfState(cs)}; should never happen`);
      }
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // Our log already contains the snapshot's last entry: no need to throw the log away.
      if (this.logOn) {
        this.logger.info(
          `${hexId(this.id)} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
        );
      }
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.maxInflight, this.maxInflightBytes);
    this.restoreConfig(cs);
    const pr = this.trk.progress.get(this.id)!;
    pr.maybeUpdate(pr.next - 1);
    if (this.logOn) {
      this.logger.info(
        `${hexId(this.id)} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
      );
    }
    return true;
  }

  // Builds the tracker's config from a ConfState (start-up, snapshot) and switches to it.
  private restoreConfig(cs: ConfState): void {
    const r = restore(
      { tracker: this.trk, lastIndex: this.raftLog.lastIndex(), maxInflight: this.maxInflight, maxInflightBytes: this.maxInflightBytes },
      cs,
    );
    if (!r.ok) fail(`unable to restore config ${describeConfState(cs)}: ${r.error}`);
    const got = this.switchToConfig(r.config, r.progress);
    if (!confStateEquivalent(cs, got)) {
      fail(`ConfStates not equivalent after sorting:\n${describeConfState(cs)}\n${describeConfState(got)}\nInputs were:\n${describeConfState(cs)}`);
    }
  }

  /** Whether this node may become leader: it is a voter and is not installing a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  /**
   * Applies a committed conf change to the tracker (Raft §6 / thesis §4): a simple change, entering
   * or leaving a joint config. Returns the resulting ConfState. An invalid change is a broken
   * invariant (the leader only commits valid ones).
   */
  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex(), this.maxInflight, this.maxInflightBytes);
    let r;
    if (leaveJoint(cc)) {
      r = changer.leaveJoint();
    } else {
      const j = enterJoint(cc);
      r = j.ok ? changer.enterJoint(j.autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    if (!r.ok) fail(r.error);
    return this.switchToConfig(r.config, r.progress);
  }

  /**
   * Installs a new config and progress map and reacts to it: a removed or demoted leader steps
   * down; otherwise a leader commits what the new quorum allows and probes new peers.
   */
  switchToConfig(cfg: TrackerConfig, prs: Map<bigint, Progress>): ConfState {
    this.trk.config = cfg;
    this.trk.progress = prs;
    if (this.logOn) this.logger.info(`${hexId(this.id)} switched to configuration ${describeTrackerConfig(cfg)}`);
    const cs = this.trk.confState();
    const pr = prs.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === StateType.StateLeader) {
      // Removed (or demoted) while leading: step down, the remaining voters elect a new leader
      // after an election timeout. Proposals to us fail from now on.
      this.becomeFollower(this.term, 0n);
      return cs;
    }
    if (this.state !== StateType.StateLeader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // The new quorum may commit more: tell everyone.
      this.bcastAppend();
    } else {
      // Probe new peers now rather than at the next heartbeat or proposal.
      this.refreshPeers();
      for (let i = 0; i < this.peerIds.length; i++) this.maybeSendAppendTo(this.peerIds[i]!, this.peerPrs[i]!, false);
    }
    // A transferee that is no longer a voter cannot take over.
    if (this.leadTransferee !== 0n && !this.trk.config.voters.ids().has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /** Restores term, vote and commit from persisted state. */
  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      fail(`${hexId(this.id)} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Whether electionElapsed reached the randomized election timeout. */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Draws a new election timeout in [electionTimeout, 2*electionTimeout) (Raft §5.2). */
  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  private sendTimeoutNow(to: bigint): void {
    this.send(newMsg(MessageType.MsgTimeoutNow, to));
  }

  /** Gives up a leadership transfer in progress. */
  abortLeaderTransfer(): void {
    this.leadTransferee = 0n;
  }

  /** Whether the entry at the commit index is of the current term. */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnErrCompacted(this.raftLog.term(this.raftLog.committed)) === this.term;
  }

  // The answer to a read: a ReadState if the read is ours, else a MsgReadIndexResp to the
  // follower that forwarded it (undefined then means nothing to send).
  private responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === 0n || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return undefined;
    }
    const m = newMsg(MessageType.MsgReadIndexResp, req.from);
    m.index = readIndex;
    m.entries = req.entries;
    return m;
  }

  private increaseUncommittedSize(ents: readonly Entry[]): boolean {
    if (this.maxUncommittedSize === NO_LIMIT) return true;
    const s = payloadsSize(ents);
    // Always accept when nothing is uncommitted (so one oversized proposal gets through), and
    // always accept empty entries (the leader's first entry, leaving a joint config).
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  private reduceUncommittedSize(ents: readonly Entry[]): void {
    // Followers do not track the limit.
    if (this.uncommittedSize === 0) return;
    const s = payloadsSize(ents);
    // The estimate may undercount (e.g. after a term change); never go below zero.
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) {
      if (this.logOn) this.logger.error('pending MsgReadIndex should be released only after first commit in current term');
      return;
    }
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  // Raft §8: record the commit index as the read index, then confirm leadership — by a heartbeat
  // round in safe mode (the request context rides on the heartbeats), or by the lease.
  private sendMsgReadIndexResponse(m: Message): void {
    if (this.readOnly.option === ReadOnlyOption.ReadOnlySafe) {
      this.readOnly.addRequest(this.raftLog.committed, m);
      // The leader acknowledges its own request.
      this.readOnly.recvAck(this.id, m.entries[0]!.data);
      this.bcastHeartbeatWithCtx(m.entries[0]!.data);
    } else {
      const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
      if (resp !== undefined) this.send(resp);
    }
  }
}
