import { encodeMessageTo, encodedSizeMessage } from '../api/raftpb/codec.js';
import { MessageType } from '../api/raftpb/types.js';
import type { MessageQueue } from './message-queue.js';

const MIN_BUFFER = 64 * 1024;
/** Buffers larger than this are not kept for reuse. */
const MAX_POOLED = 16 * 1024 * 1024;
const MAX_FREE = 4;

/** One encoded batch: frames in `buf[0, length)`. */
export interface EncodedBatch {
  /** The pooled buffer; give it back with `release` once the socket is done with it. */
  buf: Buffer;
  length: number;
  /** Messages encoded. */
  messages: number;
  /** How many of them were MsgSnap (their senders wait for a snapshot report). */
  snapshots: number;
}

/**
 * Encodes queued messages as length-prefixed frames into pooled buffers, many messages per
 * buffer, so a loop turn's messages to a peer leave in one socket write. Buffers come back
 * through `release` when the write completes and are reused; nothing is allocated per message.
 */
export class FrameEncoder {
  private readonly free: Buffer[] = [];

  /**
   * @param maxBatchBytes soft cap of one batch; a single larger message gets a batch of its own
   * @param onEncodeError called with a message that cannot be encoded (it is dropped)
   */
  constructor(
    private readonly maxBatchBytes: number,
    private readonly onEncodeError: (err: unknown) => void,
  ) {}

  /**
   * Moves messages from the head of `queue` into one batch, as many as fit in the batch buffer
   * (sized from the queue's estimate, which bounds the real size from above). Returns undefined
   * when the queue held nothing encodable.
   */
  encode(queue: MessageQueue): EncodedBatch | undefined {
    let buf: Buffer | undefined;
    let pos = 0;
    let messages = 0;
    let snapshots = 0;
    for (;;) {
      const m = queue.peek();
      if (m === undefined) break;
      let size: number;
      try {
        size = encodedSizeMessage(m);
      } catch (err) {
        queue.shift();
        this.onEncodeError(err);
        continue;
      }
      if (buf === undefined) {
        buf = this.take(Math.max(4 + size, Math.min(queue.bytes + 4 * queue.length, this.maxBatchBytes)));
      } else if (pos + 4 + size > buf.length) {
        break;
      }
      // encodedSizeMessage caches entry sizes that encodeMessageTo reuses: nothing may run between them.
      buf.writeUInt32BE(size, pos);
      pos = encodeMessageTo(m, buf, pos + 4);
      queue.shift();
      messages++;
      if (m.type === MessageType.MsgSnap) snapshots++;
    }
    if (buf === undefined) return undefined;
    return { buf, length: pos, messages, snapshots };
  }

  /** Returns a batch's buffer for reuse; the caller must not touch it afterwards. */
  release(buf: Buffer): void {
    if (this.free.length < MAX_FREE && buf.length <= MAX_POOLED) this.free.push(buf);
  }

  private take(min: number): Buffer {
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      const b = free[i]!;
      if (b.length >= min) {
        free[i] = free[free.length - 1]!;
        free.pop();
        return b;
      }
    }
    let n = MIN_BUFFER;
    while (n < min) n *= 2;
    return Buffer.allocUnsafe(n);
  }
}
