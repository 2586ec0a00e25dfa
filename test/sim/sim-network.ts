/**
 * The simulated network between raft nodes: every message gets a delivery tick, and while the
 * network is faulty it may be dropped, delayed, duplicated or reordered; partitions cut groups of
 * nodes apart. All choices come from the simulation's seeded Rand.
 */
import type { Rand } from '../../src/pkg/rand.js';
import type { Message } from '../../src/api/raftpb/types.js';

/** A message in flight. `senderIncarnation` tells whether its sender restarted since sending it. */
export interface InFlight {
  readonly m: Message;
  readonly at: number;
  readonly seq: number;
  readonly senderIncarnation: number;
}

/** Fault rates of the network; all zero once faults heal. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Probability that a message is delayed by 1..maxDelay ticks (else delivered this tick). */
  delay: number;
  maxDelay: number;
  /** Whether messages due together are delivered in random order (else in send order). */
  reorder: boolean;
}

/** A network without faults: everything arrives, in order, in the tick it was sent. */
export const RELIABLE: NetworkFaults = { drop: 0, duplicate: 0, delay: 0, maxDelay: 0, reorder: false };

/** The in-flight queue and partition state. */
export class SimNetwork {
  faults: NetworkFaults = RELIABLE;
  private queue: InFlight[] = [];
  private seq = 0;
  /** Group of each node while partitioned; nodes in different groups cannot talk. */
  private groups: Map<bigint, number> | undefined;
  /** Counters for the report. */
  readonly counts = { sent: 0, dropped: 0, duplicated: 0, delivered: 0 };

  constructor(private readonly rand: Rand) {}

  /** Queues `m` sent at tick `now`; returns false if the network lost it right away. */
  send(m: Message, now: number, senderIncarnation: number): boolean {
    this.counts.sent++;
    const f = this.faults;
    if (f.drop > 0 && this.rand.float() < f.drop) {
      this.counts.dropped++;
      return false;
    }
    this.enqueue(m, now, senderIncarnation);
    if (f.duplicate > 0 && this.rand.float() < f.duplicate) {
      this.counts.duplicated++;
      this.enqueue(m, now, senderIncarnation);
    }
    return true;
  }

  private enqueue(m: Message, now: number, senderIncarnation: number): void {
    const f = this.faults;
    // A real transport serializes: each delivery is a fresh copy (raft assigns term and index to
    // the entries of a MsgProp in place, so two deliveries must not share them).
    m = { ...m, entries: m.entries.length === 0 ? m.entries : m.entries.map((e) => ({ ...e })) };
    const delay = f.delay > 0 && this.rand.float() < f.delay ? 1 + this.rand.intn(f.maxDelay) : 0;
    this.queue.push({ m, at: now + delay, seq: this.seq++, senderIncarnation });
  }

  /** Removes and returns the messages due at `now`, shuffled when reordering is on. */
  takeDue(now: number): InFlight[] {
    if (this.queue.length === 0) return [];
    const due: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const d of this.queue) (d.at <= now ? due : rest).push(d);
    this.queue = rest;
    if (this.faults.reorder) {
      for (let i = due.length - 1; i > 0; i--) {
        const j = this.rand.intn(i + 1);
        const t = due[i]!;
        due[i] = due[j]!;
        due[j] = t;
      }
    }
    return due;
  }

  /** How many messages are in flight. */
  pending(): number {
    return this.queue.length;
  }

  /** Cuts the nodes into groups (a node's group is its index in `groups`). */
  partition(groups: readonly (readonly bigint[])[]): void {
    const g = new Map<bigint, number>();
    groups.forEach((ids, k) => {
      for (const id of ids) g.set(id, k);
    });
    this.groups = g;
  }

  /** Removes the partition. */
  heal(): void {
    this.groups = undefined;
  }

  /** Whether a partition is in place. */
  partitioned(): boolean {
    return this.groups !== undefined;
  }

  /** Whether a partition separates `a` from `b` (nodes not named share one extra group). */
  cut(a: bigint, b: bigint): boolean {
    if (this.groups === undefined) return false;
    return (this.groups.get(a) ?? -1) !== (this.groups.get(b) ?? -1);
  }
}
