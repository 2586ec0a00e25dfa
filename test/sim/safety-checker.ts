/**
 * The safety properties of Raft (§5.2–§5.4, Figure 3), checked incrementally as the simulation
 * persists, elects and applies, so a violation is caught at the step that causes it:
 * - Election Safety: at most one leader per term;
 * - Log Matching, over persisted logs: an (index, term) pair names one entry and one prefix;
 * - Leader Completeness: a new leader holds every entry committed in earlier terms;
 * - State Machine Safety: no two nodes apply different entries at an index, and snapshots carry
 *   the state the entries built;
 * - durability: a restarted node has not lost an entry it had applied;
 * - linearizable reads: a read index is at least the commit index known when the read was asked.
 */
import type { ConfState, Entry } from '../../src/api/raftpb/types.js';
import type { DurableStore } from './durable-store.js';

/** A broken safety property; the simulation prints it with its seed. */
export class SafetyViolation extends Error {}

interface LogRecord {
  term: number;
  entry: Entry;
  prevTerm: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two entries are the same entry (term, index, type and payload). */
export function sameEntry(a: Entry, b: Entry): boolean {
  return a === b || (a.term === b.term && a.index === b.index && a.type === b.type && sameBytes(a.data, b.data));
}

/** The state machine's running digest after applying `e` on top of `h` (FNV-1a, 32 bits). */
export function chainHash(h: number, e: Entry): number {
  h = Math.imul(h ^ e.term, 16777619);
  h = Math.imul(h ^ e.index, 16777619);
  h = Math.imul(h ^ e.type, 16777619);
  const d = e.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 16777619);
  return h >>> 0;
}

/** The digest of the empty state machine. */
export const EMPTY_HASH = 2166136261;

function describeConfState(cs: ConfState): string {
  const ids = (l: bigint[]): string => [...l].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(' ');
  return `voters=(${ids(cs.voters)}) outgoing=(${ids(cs.votersOutgoing)}) learners=(${ids(cs.learners)}) next=(${ids(cs.learnersNext)}) auto=${cs.autoLeave}`;
}

/** Global records of what every node persisted, elected and applied, and the checks over them. */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, bigint>();
  private readonly leaderChecked = new Set<string>();
  // byIndex[i]: the distinct (term, entry, prevTerm) seen persisted at index i on any node.
  private readonly byIndex: (LogRecord[] | undefined)[] = [];
  /** applied[i]: the entry applied at index i (by whichever node applied it first). */
  readonly applied: (Entry | undefined)[] = [];
  /** hashAt[i]: the state machine digest after applying index i. */
  readonly hashAt: (number | undefined)[] = [];
  // commitTermUB[i]: an upper bound on the term in which entry i was committed (the applying node's term).
  private readonly commitTermUB: number[] = [];
  private readonly confAt = new Map<number, string>();
  /** The highest index applied anywhere. */
  maxApplied = 0;
  /** The highest commit index any node persisted: every read asked later must see at least this. */
  maxCommit = 0;
  /** Counters for the report. */
  readonly counts = { leaders: 0, persistedEntries: 0, appliedEntries: 0, snapshotsRestored: 0, reads: 0 };

  /** Election Safety: `id` acts as leader in `term`. */
  onLeader(id: bigint, term: number): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev === undefined) {
      this.leaderOfTerm.set(term, id);
      this.counts.leaders++;
    } else if (prev !== id) {
      throw new SafetyViolation(`election safety: both ${prev} and ${id} are leader in term ${term}`);
    }
  }

  /**
   * Log Matching: `entries` were just persisted by `node`, the first following an entry of term
   * `prevTerm`. Two persisted entries with equal index and term must be equal and follow equal terms,
   * which by induction makes the whole prefixes equal.
   */
  onPersist(node: bigint, entries: readonly Entry[], prevTerm: number): void {
    let prev = prevTerm;
    for (const e of entries) {
      let recs = this.byIndex[e.index];
      if (recs === undefined) {
        recs = [];
        this.byIndex[e.index] = recs;
      }
      let found = false;
      for (const r of recs) {
        if (r.term !== e.term) continue;
        found = true;
        if (!sameEntry(r.entry, e)) {
          throw new SafetyViolation(`log matching: node ${node} persisted a different entry at ${e.term}/${e.index}`);
        }
        if (r.prevTerm !== prev) {
          throw new SafetyViolation(`log matching: node ${node} has ${e.term}/${e.index} after term ${prev}, another log after term ${r.prevTerm}`);
        }
        break;
      }
      if (!found) recs.push({ term: e.term, entry: e, prevTerm: prev });
      prev = e.term;
      this.counts.persistedEntries++;
    }
  }

  /** A node persisted a hard state with this commit index. */
  onCommit(commit: number): void {
    if (commit > this.maxCommit) this.maxCommit = commit;
  }

  /** A persisted entry at or below the node's persisted commit index was overwritten. */
  onTruncate(node: bigint, from: number, commit: number): void {
    if (from <= commit) {
      throw new SafetyViolation(`node ${node} overwrote persisted entry ${from} at or below its commit index ${commit}`);
    }
  }

  /**
   * State Machine Safety: `node`, in `term`, applied `e`, reaching digest `hash`. Every node must
   * apply the same entry at an index and reach the same digest.
   */
  onApply(node: bigint, e: Entry, hash: number, term: number): void {
    const i = e.index;
    const prev = this.applied[i];
    if (prev === undefined) {
      this.applied[i] = e;
      this.hashAt[i] = hash;
      this.commitTermUB[i] = term;
      if (i > this.maxApplied) this.maxApplied = i;
    } else {
      if (!sameEntry(prev, e)) {
        throw new SafetyViolation(`state machine safety: node ${node} applied ${e.term}/${i}, another node applied ${prev.term}/${i}`);
      }
      if (this.hashAt[i] !== hash) throw new SafetyViolation(`state machine safety: node ${node} reached a different state at ${i}`);
      if (term < this.commitTermUB[i]!) this.commitTermUB[i] = term;
    }
    this.counts.appliedEntries++;
  }

  /** Applying the conf change at `index` gave `cs`; it must give the same on every node. */
  onConfApplied(node: bigint, index: number, cs: ConfState): void {
    const d = describeConfState(cs);
    const prev = this.confAt.get(index);
    if (prev === undefined) this.confAt.set(index, d);
    else if (prev !== d) throw new SafetyViolation(`node ${node} got config ${d} at ${index}, another node ${prev}`);
  }

  /** A node restored its state machine from a snapshot at `index` carrying digest `hash`. */
  onSnapshotRestore(node: bigint, index: number, hash: number): void {
    const known = this.hashAt[index];
    if (known !== undefined && known !== hash) {
      throw new SafetyViolation(`node ${node} restored a snapshot at ${index} whose state differs from what was applied there`);
    }
    this.counts.snapshotsRestored++;
  }

  /**
   * Leader Completeness: `node` has just persisted its log as leader of `term`; every entry
   * applied anywhere that was committed in an earlier term must be in that log (or its snapshot).
   */
  checkLeaderCompleteness(node: bigint, term: number, disk: DurableStore): void {
    const key = `${node}/${term}`;
    if (this.leaderChecked.has(key)) return;
    this.leaderChecked.add(key);
    const snapIndex = disk.compactedIndex();
    for (let i = snapIndex + 1; i <= this.maxApplied; i++) {
      const e = this.applied[i];
      if (e === undefined || this.commitTermUB[i]! >= term) continue;
      const mine = disk.entry(i);
      if (mine === undefined || !sameEntry(mine, e)) {
        throw new SafetyViolation(`leader completeness: leader ${node} of term ${term} lacks committed entry ${e.term}/${i}`);
      }
    }
  }

  /** Durability: after a restart, the disk must still cover everything applied before the crash. */
  onRestart(node: bigint, disk: DurableStore, appliedBefore: number): void {
    const covered = Math.max(disk.hardState.commit, disk.snapshot?.metadata.index ?? 0);
    if (covered < appliedBefore) {
      throw new SafetyViolation(`node ${node} applied up to ${appliedBefore} before crashing but its disk commits only ${covered}`);
    }
  }

  /** A read asked when the known commit index was `required` was answered with `index`. */
  onReadState(node: bigint, index: number, required: number): void {
    if (index < required) {
      throw new SafetyViolation(`linearizability: node ${node} got read index ${index} for a read asked after ${required} was committed`);
    }
    this.counts.reads++;
  }
}
