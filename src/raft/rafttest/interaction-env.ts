/**
 * The interaction harness (etcd's rafttest.InteractionEnv): a handful of RawNodes in memory whose
 * Readys, messages and clock are driven one command at a time by golden files, so every step of
 * an election, a replication round or a conf change shows up in the expected output.
 */
import type { TestCase } from '../../pkg/datadriven.js';
import { seededRand } from '../../pkg/rand.js';
import {
  ConfChangeTransition,
  EntryType,
  emptyConfState,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Message,
  type Snapshot,
} from '../../api/raftpb/types.js';
import { NO_LIMIT, ReadOnlyOption, type RaftConfig } from '../config.js';
import { RawNode } from '../raw-node.js';
import { StateType } from '../ready.js';
import { MemoryStorage, isStorageError } from '../storage.js';
import { progressStateName } from '../tracker/index.js';
import { decodeConfChangeEntry } from './conf-change-data.js';
import { EnvLogger, LOG_LEVELS, type LogLevel } from './env-logger.js';
import { EnvOutput } from './env-output.js';
import { CommandError, parseChanges, parseIdList, parseNodeIds } from './args.js';
import { describeEntry, describeMessage, describeReady } from '../describe.js';
import { hexId } from '../logger.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function formatIds(ids: readonly bigint[]): string {
  return `(${[...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(hexId).join(' ')})`;
}

/** One node of the environment: its RawNode, its (in-memory, always durable) storage and state machine. */
export interface EnvNode {
  readonly id: bigint;
  rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly config: RaftConfig;
  /** The state machine: the payloads of applied normal entries, in order. */
  applied: string[];
  /** invariant: appliedIndex <= the node's commit index. */
  appliedIndex: number;
  /** The membership as of appliedIndex (from snapshots and applied conf changes). */
  confState: ConfState;
}

/**
 * Runs interaction commands against a set of in-memory raft nodes. Node n (1-based) has ID n.
 * Messages produced by a node wait in `messages` until a `deliver-msgs` or `stabilize` hands them
 * to their recipients, which lets tests interleave and drop them precisely.
 */
export class InteractionEnv {
  readonly nodes: EnvNode[] = [];
  /** Messages sent and not yet delivered, in send order. */
  messages: Message[] = [];
  private readonly out = new EnvOutput();
  private readonly logger = new EnvLogger(this.out);
  /** Partition groups: a message between nodes of different groups is dropped on delivery. */
  private partition: Map<bigint, number> | undefined;

  /** Runs one command and returns its output. */
  handle(tc: TestCase): string {
    try {
      this.dispatch(tc);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.out.line(`error: ${e.message}`);
    }
    const s = this.out.take();
    return s === '' ? 'ok\n' : s;
  }

  private dispatch(tc: TestCase): void {
    switch (tc.cmd) {
      case 'add-nodes':
        return this.addNodes(tc);
      case 'campaign':
        return this.forNodes(tc, (n) => this.report(n.rawNode.campaign()));
      case 'propose':
        return this.propose(tc);
      case 'propose-conf-change':
        return this.proposeConfChange(tc);
      case 'process-ready':
        return this.processReadyCmd(tc);
      case 'deliver-msgs':
        return this.deliverMsgsCmd(tc);
      case 'stabilize':
        return this.stabilize(tc);
      case 'tick-heartbeat':
        return this.forNodes(tc, (n) => this.tick(n, n.config.heartbeatTick));
      case 'tick-election':
        return this.forNodes(tc, (n) => this.tick(n, n.config.electionTick));
      case 'log-level':
        return this.setLogLevel(tc);
      case 'status':
        return this.forNodes(tc, (n) => this.status(n));
      case 'raft-state':
        return this.raftState();
      case 'raft-log':
        return this.forNodes(tc, (n) => this.raftLog(n));
      case 'read-index':
        return this.readIndex(tc);
      case 'transfer-leadership':
        return this.transferLeadership(tc);
      case 'compact':
        return this.compact(tc);
      case 'report-unreachable':
        return this.reportUnreachable(tc);
      case 'partition':
        return this.setPartition(tc);
      case 'heal':
        this.partition = undefined;
        return;
      default:
        throw new CommandError(`unknown command ${tc.cmd}`);
    }
  }


  /**
   * `add-nodes <n> [voters=(1,2,3)] [learners=(4)] [index=<i>] [content=<s>] [prevote=true]
   * [checkquorum=true] [read-only=lease-based] [max-committed-size-per-ready=<n>]
   * [disable-proposal-forwarding=true] [max-inflight=<n>]`. With `index`, each node starts from a
   * snapshot at that index (term 1) holding the given membership; without it, from an empty log
   * and no membership (a node waiting to be added).
   */
  private addNodes(tc: TestCase): void {
    const n = Number(tc.cmdArgs[0]);
    if (!Number.isInteger(n) || n <= 0) throw new CommandError('add-nodes needs a node count');
    const voters = parseIdList(tc.args.get('voters') ?? '()');
    const learners = parseIdList(tc.args.get('learners') ?? '()');
    const index = Number(tc.args.get('index') ?? '0');
    if ((voters.length > 0 || learners.length > 0) && index <= 1) {
      throw new CommandError('index must be given (and > 1) to start from a membership');
    }
    const bool = (k: string): boolean => tc.args.get(k) === 'true';
    const readOnly = tc.args.get('read-only') === 'lease-based' ? ReadOnlyOption.ReadOnlyLeaseBased : ReadOnlyOption.ReadOnlySafe;
    const maxCommitted = Number(tc.args.get('max-committed-size-per-ready') ?? '0');
    const content = tc.args.get('content') ?? '';
    for (let k = 0; k < n; k++) {
      const id = BigInt(this.nodes.length + 1);
      const storage = new MemoryStorage();
      const confState: ConfState = { ...emptyConfState(), voters, learners };
      const applied: string[] = content === '' ? [] : content.split(',');
      if (index > 0) {
        const snap: Snapshot = {
          data: encoder.encode(applied.join(',')),
          metadata: { index, term: 1, confState },
        };
        const err = storage.applySnapshot(snap);
        if (err !== undefined) throw new CommandError(err);
      }
      const config: RaftConfig = {
        id,
        electionTick: 3,
        heartbeatTick: 1,
        storage,
        applied: index,
        maxSizePerMsg: NO_LIMIT,
        maxCommittedSizePerReady: maxCommitted === 0 ? undefined : maxCommitted,
        maxInflightMsgs: Number(tc.args.get('max-inflight') ?? '256'),
        checkQuorum: bool('checkquorum'),
        preVote: bool('prevote'),
        readOnlyOption: readOnly,
        disableProposalForwarding: bool('disable-proposal-forwarding'),
        rand: seededRand(Number(id)),
        logger: this.logger,
      };
      const rawNode = new RawNode(config);
      this.nodes.push({ id, rawNode, storage, config, applied, appliedIndex: index, confState });
    }
  }

  private node(arg: string | undefined): EnvNode {
    const n = this.nodes[Number(arg) - 1];
    if (arg === undefined || n === undefined) throw new CommandError(`no node ${arg ?? '(missing)'}`);
    return n;
  }

  /** Runs `f` for each node named by the bare numeric arguments (all nodes when none). */
  private forNodes(tc: TestCase, f: (n: EnvNode) => void): void {
    const ids = parseNodeIds(tc.cmdArgs);
    const nodes = ids.length === 0 ? this.nodes : ids.map((i) => this.node(String(i)));
    for (const n of nodes) f(n);
  }

  private report(err: string | undefined): void {
    if (err !== undefined) this.out.line(`error: ${err}`);
  }

  private tick(n: EnvNode, times: number): void {
    for (let i = 0; i < times; i++) n.rawNode.tick();
  }


  /** `propose <id> <data>`. */
  private propose(tc: TestCase): void {
    const n = this.node(tc.cmdArgs[0]);
    const data = tc.cmdArgs[1];
    if (data === undefined) throw new CommandError('propose needs data');
    this.report(n.rawNode.propose(encoder.encode(data)));
  }

  /**
   * `propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit] <changes>`, changes
   * written as `v4 l5 r2 u3` (voter, learner, remove, update) on the command line or as input.
   * No changes with a v2 proposal means "leave the joint config".
   */
  private proposeConfChange(tc: TestCase): void {
    const n = this.node(tc.cmdArgs[0]);
    const words = [...tc.cmdArgs.slice(1), ...tc.input.split(/\s+/)].filter((w) => w !== '' && !w.includes('='));
    const changes: ConfChangeSingle[] = parseChanges(words);
    let cc: ConfChange | ConfChangeV2;
    if (tc.args.get('v1') === 'true') {
      if (changes.length !== 1) throw new CommandError('v1 conf changes hold exactly one change');
      cc = { id: 0n, type: changes[0]!.type, nodeId: changes[0]!.nodeId, context: new Uint8Array(0) };
    } else {
      const t = tc.args.get('transition') ?? 'auto';
      const transition =
        t === 'implicit'
          ? ConfChangeTransition.ConfChangeTransitionJointImplicit
          : t === 'explicit'
            ? ConfChangeTransition.ConfChangeTransitionJointExplicit
            : ConfChangeTransition.ConfChangeTransitionAuto;
      cc = { transition, changes, context: new Uint8Array(0) };
    }
    this.report(n.rawNode.proposeConfChange(cc));
  }

  /** `read-index <id> <ctx>`. */
  private readIndex(tc: TestCase): void {
    const n = this.node(tc.cmdArgs[0]);
    n.rawNode.readIndex(encoder.encode(tc.cmdArgs[1] ?? ''));
  }

  /** `transfer-leadership from=<id> to=<id>`. */
  private transferLeadership(tc: TestCase): void {
    const from = this.node(tc.args.get('from'));
    const to = this.node(tc.args.get('to'));
    from.rawNode.transferLeader(to.id);
  }

  /** `report-unreachable <id> <peer>`: node id's transport failed to reach peer. */
  private reportUnreachable(tc: TestCase): void {
    const n = this.node(tc.cmdArgs[0]);
    const peer = this.node(tc.cmdArgs[1]);
    n.rawNode.reportUnreachable(peer.id);
  }


  /** `process-ready <ids...>`. */
  private processReadyCmd(tc: TestCase): void {
    const ids = parseNodeIds(tc.cmdArgs);
    const nodes = ids.length === 0 ? this.nodes : ids.map((i) => this.node(String(i)));
    for (const n of nodes) {
      if (nodes.length > 1) {
        this.out.line(`> ${hexId(n.id)} handling Ready`);
        this.out.indented(() => this.processReady(n));
      } else {
        this.processReady(n);
      }
    }
  }

  /**
   * Handles one Ready as a host must: persist the snapshot, hard state and entries, queue the
   * messages, apply the committed entries (conf changes included), then advance.
   */
  processReady(n: EnvNode): void {
    const rd = n.rawNode.ready();
    this.out.block(describeReady(rd));
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
      const err = n.storage.applySnapshot(rd.snapshot);
      if (err !== undefined) throw new CommandError(`applying snapshot: ${err}`);
      const data = decoder.decode(rd.snapshot.data);
      n.applied = data === '' ? [] : data.split(',');
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
    }
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    n.storage.append(rd.entries);
    for (const m of rd.messages) this.messages.push(m);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.EntryNormal) {
        if (e.data.length > 0) n.applied.push(decoder.decode(e.data));
      } else {
        const cc = decodeConfChangeEntry(e);
        if (cc === undefined) throw new CommandError(`undecodable conf change at ${e.index}`);
        n.confState = n.rawNode.applyConfChange(cc);
      }
      n.appliedIndex = e.index;
    }
    // Keep the served snapshot at the applied state, so a compacted log can be caught up from it.
    if (rd.committedEntries.length > 0) {
      n.storage.createSnapshot(n.appliedIndex, n.confState, encoder.encode(n.applied.join(',')));
    }
    n.rawNode.advance();
  }

  /** `deliver-msgs <ids...> [drop=(ids)]`: hands each node its waiting messages, or drops them. */
  private deliverMsgsCmd(tc: TestCase): void {
    const drop = parseIdList(tc.args.get('drop') ?? '()');
    for (const id of drop) {
      for (const m of this.takeMessages(id)) this.out.line(`dropped: ${describeMessage(m)}`);
    }
    const ids = parseNodeIds(tc.cmdArgs);
    for (const i of ids) this.deliverMsgs(this.node(String(i)));
  }

  private takeMessages(to: bigint): Message[] {
    const mine: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.messages) (m.to === to ? mine : rest).push(m);
    this.messages = rest;
    return mine;
  }

  private isCut(m: Message): boolean {
    if (this.partition === undefined) return false;
    return (this.partition.get(m.from) ?? -1) !== (this.partition.get(m.to) ?? -1);
  }

  /** Steps every waiting message addressed to `n`; returns how many there were. */
  private deliverMsgs(n: EnvNode): number {
    const msgs = this.takeMessages(n.id);
    for (const m of msgs) {
      const text = describeMessage(m);
      if (this.isCut(m)) {
        this.out.line(`dropped: ${text}`);
        continue;
      }
      this.out.line(text);
      this.report(n.rawNode.step(m));
    }
    return msgs.length;
  }

  /**
   * `stabilize [ids...]`: handles Readys and delivers messages among the named nodes (all when
   * none) until none of them has anything left to do.
   */
  private stabilize(tc: TestCase): void {
    const ids = parseNodeIds(tc.cmdArgs);
    const nodes = ids.length === 0 ? this.nodes : ids.map((i) => this.node(String(i)));
    for (;;) {
      let done = true;
      for (const n of nodes) {
        if (!n.rawNode.hasReady()) continue;
        done = false;
        this.out.line(`> ${hexId(n.id)} handling Ready`);
        this.out.indented(() => this.processReady(n));
      }
      for (const n of nodes) {
        if (!this.messages.some((m) => m.to === n.id)) continue;
        done = false;
        this.out.line(`> ${hexId(n.id)} receiving messages`);
        this.out.indented(() => this.deliverMsgs(n));
      }
      if (done) return;
    }
  }


  private setLogLevel(tc: TestCase): void {
    const l = tc.cmdArgs[0] as LogLevel;
    if (!LOG_LEVELS.includes(l)) throw new CommandError(`unknown log level ${tc.cmdArgs[0]}`);
    this.logger.level = l;
  }

  /** `status <id>`: the leader's view of each peer's progress, or the node's role otherwise. */
  private status(n: EnvNode): void {
    const st = n.rawNode.status();
    if (st.softState.raftState !== StateType.StateLeader) {
      this.out.line(`${hexId(n.id)}: ${StateType[st.softState.raftState]} term=${st.hardState.term} commit=${st.hardState.commit} applied=${st.applied} ${st.config}`);
      return;
    }
    const ids = [...st.progress.keys()].sort((a, b) => (a < b ? -1 : 1));
    for (const id of ids) {
      const pr = st.progress.get(id)!;
      this.out.line(`${hexId(id)}: ${progressStateName(pr.state)} match=${pr.match} next=${pr.next}${pr.isLearner ? ' learner' : ''}`);
    }
  }

  /** `raft-state`: every node's role, term and leader as the harness last saw them. */
  private raftState(): void {
    for (const n of this.nodes) {
      const st = n.rawNode.status();
      const cs = n.confState;
      const role = cs.voters.includes(n.id) || cs.votersOutgoing.includes(n.id) ? 'Voter' : cs.learners.includes(n.id) ? 'Learner' : 'Non-Voter';
      this.out.line(`${hexId(n.id)}: ${StateType[st.softState.raftState]} (${role}) Term:${st.hardState.term} Lead:${hexId(st.softState.lead)}`);
    }
  }

  /** `raft-log <id>`: the entries held in storage. */
  private raftLog(n: EnvNode): void {
    const fi = n.storage.firstIndex();
    const li = n.storage.lastIndex();
    if (li < fi) {
      this.out.line(`log is empty: first index=${fi}, last index=${li}`);
      return;
    }
    const ents = n.storage.entries(fi, li + 1, NO_LIMIT);
    if (isStorageError(ents)) throw new CommandError(ents);
    for (const e of ents) this.out.line(describeEntry(e));
  }

  /** `compact <id> <index>`: discards the stored log up to and including index, then shows it. */
  private compact(tc: TestCase): void {
    const n = this.node(tc.cmdArgs[0]);
    const index = Number(tc.cmdArgs[1]);
    if (index > n.appliedIndex) throw new CommandError(`cannot compact past applied index ${n.appliedIndex}`);
    const err = n.storage.compact(index);
    if (err !== undefined) throw new CommandError(err);
    this.raftLog(n);
  }

  /** `partition (1) (2,3)`: messages between different groups are dropped until `heal`. */
  private setPartition(tc: TestCase): void {
    const groups = new Map<bigint, number>();
    tc.cmdArgs.forEach((g, k) => {
      for (const id of parseIdList(g)) groups.set(id, k);
    });
    this.partition = groups;
    this.out.line(`partitioned ${tc.cmdArgs.map((g) => formatIds(parseIdList(g))).join(' ')}`);
  }
}
