import type { Message } from '../api/raftpb/types.js';
import type { ReadOnlyOption } from './config.js';
import { fail } from './errors.js';

/** A read waiting for a heartbeat quorum to confirm the leader is still the leader. */
export interface ReadIndexStatus {
  /** The MsgReadIndex (its first entry's data is the request context). */
  req: Message;
  /** The leader's commit index when the request arrived. */
  index: number;
  /** Voters that acknowledged a heartbeat carrying this request's context (the leader included). */
  acks: Map<bigint, boolean>;
}

/** The request context as a map key: one char per byte, so distinct byte strings stay distinct. */
export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/**
 * The leader's queue of pending ReadIndex requests (Raft §8, etcd's safe read-only mode). Reads are
 * answered in arrival order: a heartbeat quorum acknowledging one request confirms it and every
 * request queued before it, so many reads share one round.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(
    /** How reads are confirmed. */
    readonly option: ReadOnlyOption,
  ) {}

  /** Queues read request m (a MsgReadIndex) at the given commit index; a duplicate context is ignored. */
  addRequest(index: number, m: Message): void {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Map() });
    this.queue.push(key);
  }

  /**
   * Records that `id` acknowledged the heartbeat carrying `context`; returns the acks so far, or
   * undefined when the context is not pending.
   */
  recvAck(id: bigint, context: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(ctxKey(context));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * Dequeues the request whose context `m` carries and every request queued before it, and returns
   * them in order (they are all confirmed). Empty when the context is unknown.
   */
  advance(m: Message): ReadIndexStatus[] {
    const ctx = ctxKey(m.context);
    const at = this.queue.indexOf(ctx);
    if (at < 0) return [];
    const done: ReadIndexStatus[] = [];
    for (let i = 0; i <= at; i++) {
      const key = this.queue[i]!;
      const rs = this.pending.get(key);
      if (rs === undefined) fail('cannot find corresponding read state from pending map');
      done.push(rs);
      this.pending.delete(key);
    }
    this.queue = this.queue.slice(at + 1);
    return done;
  }

  /** The context of the most recent pending request, or undefined when none is pending. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }

  /** Number of pending requests. */
  pendingCount(): number {
    return this.queue.length;
  }
}
