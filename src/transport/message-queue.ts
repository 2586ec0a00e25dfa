import type { Message } from '../api/raftpb/types.js';

/**
 * A bounded FIFO of messages waiting for one peer's stream: a fixed ring that never grows, bounded
 * both in count and in (estimated) bytes. A push that would exceed either bound is refused and
 * the caller drops the message, as etcd does when its stream buffer is full: raft retransmits.
 */
export class MessageQueue {
  private readonly items: (Message | undefined)[];
  private readonly sizes: Float64Array;
  private head = 0;
  /** Messages queued. invariant: length <= capacity. */
  length = 0;
  /** Sum of the estimated sizes of the queued messages, in bytes. invariant: bytes <= maxBytes, or one message when length === 1. */
  bytes = 0;

  /**
   * @param capacity most messages held
   * @param maxBytes most estimated bytes held; a single larger message is still accepted into an empty queue
   */
  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {
    this.items = new Array<Message | undefined>(capacity).fill(undefined);
    this.sizes = new Float64Array(capacity);
  }

  /** Appends `m` of estimated `size` bytes; false (and nothing queued) when full. */
  push(m: Message, size: number): boolean {
    if (this.length === this.capacity) return false;
    if (this.bytes + size > this.maxBytes && this.length > 0) return false;
    let i = this.head + this.length;
    if (i >= this.capacity) i -= this.capacity;
    this.items[i] = m;
    this.sizes[i] = size;
    this.length++;
    this.bytes += size;
    return true;
  }

  /** The oldest message, without removing it. */
  peek(): Message | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Removes and returns the oldest message. */
  shift(): Message | undefined {
    if (this.length === 0) return undefined;
    const i = this.head;
    const m = this.items[i];
    this.items[i] = undefined;
    this.bytes -= this.sizes[i]!;
    this.head = i + 1 === this.capacity ? 0 : i + 1;
    this.length--;
    if (this.length === 0) this.bytes = 0;
    return m;
  }

  /** Empties the queue, calling `onDropped` for each message in order; returns how many were dropped. */
  clear(onDropped?: (m: Message) => void): number {
    const n = this.length;
    while (this.length > 0) {
      const m = this.shift()!;
      onDropped?.(m);
    }
    return n;
  }
}

/**
 * An upper bound of a message's encoded size, cheap enough for every send: fixed fields, each
 * entry's data plus its framing, the context, and a snapshot's data and membership.
 */
export function estimateMessageSize(m: Message): number {
  let n = 96 + m.context.length;
  const ents = m.entries;
  for (let i = 0; i < ents.length; i++) n += ents[i]!.data.length + 40;
  const s = m.snapshot;
  if (s !== undefined) {
    const cs = s.metadata.confState;
    n += s.data.length + 64 + 11 * (cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length);
  }
  return n;
}
