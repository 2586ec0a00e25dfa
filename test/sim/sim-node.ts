/**
 * One simulated member: its disk (DurableStore) outlives crashes; its RawNode, MemoryStorage and
 * state machine live only while it is up.
 */
import type { RawNode } from '../../src/raft/raw-node.js';
import type { MemoryStorage } from '../../src/raft/storage.js';
import { StateType } from '../../src/raft/ready.js';
import { emptyConfState, type ConfState } from '../../src/api/raftpb/types.js';
import { DurableStore } from './durable-store.js';
import { EMPTY_HASH } from './safety-checker.js';

/** Where in the Ready handling a planned crash strikes. */
export type CrashPoint = 'before-persist' | 'after-persist' | 'mid-send' | 'mid-apply';

/** All crash points, for random choice. */
export const CRASH_POINTS: readonly CrashPoint[] = ['before-persist', 'after-persist', 'mid-send', 'mid-apply'];

/** `up`: running; `down`: crashed, may restart; `gone`: removed from the cluster for good. */
export type NodeLife = 'up' | 'down' | 'gone';

/** A simulated node. */
export class SimNode {
  readonly disk = new DurableStore();
  life: NodeLife = 'down';
  /** Bumped at every crash, so stale snapshot reports from an old life are not delivered. */
  incarnation = 0;
  raw: RawNode | undefined;
  mem: MemoryStorage | undefined;
  // Volatile view from the Readys of the current life.
  role: StateType = StateType.StateFollower;
  lead = 0n;
  term = 0;
  /** invariant: appliedIndex <= the persisted commit index. */
  appliedIndex = 0;
  /** Digest of the state machine at appliedIndex. */
  hash = EMPTY_HASH;
  /** Membership as of appliedIndex. */
  confState: ConfState = emptyConfState();
  /** The highest index applied in any life: a restart must not lose it. */
  maxApplied = 0;
  /** A crash planned for the next Ready handling. */
  crashPoint: CrashPoint | undefined;
  /** Tick of the last crash. */
  downSince = 0;

  constructor(
    readonly id: bigint,
    /** Whether this node starts the cluster (bootstraps its membership) rather than joining it. */
    readonly founder: boolean,
  ) {}
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Snapshot data: the applied index and the state digest there. */
export function encodeSnapshotData(index: number, hash: number): Uint8Array {
  return enc.encode(`${index}:${hash}`);
}

/** Inverse of encodeSnapshotData; an empty payload is the empty state machine at `index`. */
export function decodeSnapshotData(data: Uint8Array, index: number): { index: number; hash: number } {
  if (data.length === 0) return { index, hash: EMPTY_HASH };
  const [i, h] = dec.decode(data).split(':');
  return { index: Number(i), hash: Number(h) };
}
