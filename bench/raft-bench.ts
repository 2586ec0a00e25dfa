/**
 * Raft throughput benchmark: a 3-node cluster in one process through the real raft core. Every
 * message is stepped into its recipient, every Ready is handled (entries appended to each node's
 * MemoryStorage, hard state set, committed entries applied, advance), and an entry counts once the
 * leader applies it. Proposals of 100-byte entries are made in batches, many per loop turn, and
 * storage is compacted as entries are applied so memory stays bounded.
 *
 * Prints entries/s and the heap growth per 100k entries; the last line is `raft: <N> entries/s`.
 * Usage: node dist/bench/raft-bench.js [entries] (default 1,000,000 after a warm-up).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededRand } from '../src/pkg/rand.js';
import type { Message } from '../src/api/raftpb/types.js';
import { EntryType } from '../src/api/raftpb/types.js';
import { RawNode } from '../src/raft/raw-node.js';
import { MemoryStorage } from '../src/raft/storage.js';
import { StateType } from '../src/raft/ready.js';

const ENTRY_BYTES = 100;
/** Proposals made per loop turn (one turn = handle every Ready, deliver every message). */
const BATCH = 256;
/** Entries kept behind the applied index when compacting. */
const KEEP = 1000;
const COMPACT_EVERY = 20_000;

interface BenchNode {
  id: bigint;
  raw: RawNode;
  storage: MemoryStorage;
  applied: number;
  lastCompact: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function newCluster(): BenchNode[] {
  const ids = [1n, 2n, 3n];
  return ids.map((id) => {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1, term: 1, confState: { voters: ids, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    });
    const raw = new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      applied: 1,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      checkQuorum: false,
      preVote: false,
      rand: seededRand(Number(id)),
    });
    return { id, raw, storage, applied: 1, lastCompact: 1 };
  });
}

/** The cluster's message bus: messages sent in one turn are delivered in the next. */
class Bus {
  private queue: Message[] = [];
  private spare: Message[] = [];

  push(ms: Message[]): void {
    for (let i = 0; i < ms.length; i++) this.queue.push(ms[i]!);
  }

  deliver(byId: Map<bigint, BenchNode>): number {
    const q = this.queue;
    this.queue = this.spare;
    for (let i = 0; i < q.length; i++) {
      const m = q[i]!;
      byId.get(m.to)!.raw.step(m);
    }
    const n = q.length;
    q.length = 0;
    this.spare = q;
    return n;
  }
}

/** Handles one Ready of `n` as a host does; returns how many normal entries it applied. */
function handleReady(n: BenchNode, bus: Bus): number {
  const rd = n.raw.ready();
  if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  if (rd.entries.length > 0) n.storage.append(rd.entries);
  if (rd.messages.length > 0) bus.push(rd.messages);
  let applied = 0;
  const ce = rd.committedEntries;
  for (let i = 0; i < ce.length; i++) {
    const e = ce[i]!;
    if (e.type === EntryType.EntryNormal && e.data.length === ENTRY_BYTES) applied++;
  }
  if (ce.length > 0) n.applied = ce[ce.length - 1]!.index;
  n.raw.advance();
  if (n.applied - n.lastCompact >= COMPACT_EVERY) {
    const snap = n.storage.createSnapshot(n.applied, undefined, new Uint8Array(0));
    if (typeof snap !== 'string') n.storage.compact(n.applied - KEEP);
    n.lastCompact = n.applied;
  }
  return applied;
}

function elect(nodes: BenchNode[], bus: Bus, byId: Map<bigint, BenchNode>): BenchNode {
  const leader = nodes[0]!;
  leader.raw.campaign();
  for (let turn = 0; turn < 100; turn++) {
    for (const n of nodes) if (n.raw.hasReady()) handleReady(n, bus);
    bus.deliver(byId);
    if (leader.raw.status().softState.raftState === StateType.StateLeader && !nodes.some((n) => n.raw.hasReady())) return leader;
  }
  throw new Error('no leader elected');
}

/** Pushes `count` entries through the cluster; returns the seconds it took. */
function run(nodes: BenchNode[], leader: BenchNode, bus: Bus, byId: Map<bigint, BenchNode>, count: number): number {
  const payload = new Uint8Array(ENTRY_BYTES).fill(0x61);
  let proposed = 0;
  let committed = 0;
  let turns = 0;
  const started = process.hrtime.bigint();
  while (committed < count) {
    const batch = Math.min(BATCH, count - proposed);
    for (let i = 0; i < batch; i++) {
      const err = leader.raw.propose(payload);
      if (err !== undefined) throw new Error(`proposal refused: ${err}`);
    }
    proposed += batch;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (n.raw.hasReady()) {
        const applied = handleReady(n, bus);
        if (n === leader) committed += applied;
      }
    }
    bus.deliver(byId);
    // The clock ticks now and then (a tick is ~100 ms in etcd, far longer than a turn).
    if (++turns % 64 === 0) leader.raw.tick();
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function main(): void {
  const count = Number(process.argv[2] ?? '1000000');
  const nodes = newCluster();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const bus = new Bus();
  const leader = elect(nodes, bus, byId);
  run(nodes, leader, bus, byId, 100_000);
  const heapBefore = heapAfterGc();
  const secs = run(nodes, leader, bus, byId, count);
  const heapAfter = heapAfterGc();
  const rate = Math.round(count / secs);
  const growthPer100k = ((heapAfter - heapBefore) / (count / 100_000) / 1024).toFixed(1);
  console.log(`raft bench: 3 nodes, ${ENTRY_BYTES}-byte entries, ${BATCH} proposals per turn, compaction every ${COMPACT_EVERY} (keep ${KEEP})`);
  console.log(`committed ${count} entries in ${secs.toFixed(2)}s`);
  console.log(`heap: ${(heapBefore / 1048576).toFixed(1)} MiB -> ${(heapAfter / 1048576).toFixed(1)} MiB (${growthPer100k} KiB per 100k entries)`);
  console.log(`raft: ${rate} entries/s`);
}

main();
