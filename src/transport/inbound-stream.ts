import type { Socket } from 'node:net';
import { decodeMessage } from '../api/raftpb/codec.js';
import { isEtcdError } from '../pkg/errors.js';
import { FrameDecoder } from './frame-decoder.js';
import { KEEPALIVE_FRAME, formatId } from './peer-handshake.js';
import type { TransportContext } from './transport-options.js';

/** What has arrived from one sender, over all its streams. */
export interface InboundCounters {
  receivedMessages: number;
  /** Bytes read from its streams, framing included. */
  receivedBytes: number;
}

/**
 * The receiving end of a peer's raft stream: decodes frames in arrival order and hands each
 * message to raft. A malformed frame, an oversized length or a sender removed from the cluster
 * closes this connection only (the sender redials; the process carries on).
 */
export class InboundStream {
  private readonly decoder: FrameDecoder;
  private lastRead: number;
  private lastWrite: number;
  private closed = false;

  /**
   * @param from the sender, as its handshake stated
   * @param socket the upgraded socket (the 101 answer already written)
   * @param counters the sender's receive counters, kept by the transport across reconnections
   * @param onClosed called once when the socket closes, for the transport's bookkeeping
   */
  constructor(
    readonly from: bigint,
    readonly socket: Socket,
    private readonly ctx: TransportContext,
    private readonly counters: InboundCounters,
    private readonly onClosed: (s: InboundStream) => void,
  ) {
    this.decoder = new FrameDecoder(ctx.config.maxFrameBytes);
    const now = ctx.now();
    this.lastRead = now;
    this.lastWrite = now;
  }

  /** Starts reading; `head` holds bytes that arrived with the handshake. */
  start(head: Buffer): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', this.onData);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.onClosed(this);
    });
    if (head.length > 0) this.onData(head);
  }

  /** Closes the connection, logging why. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const held = this.ctx.limiter.allow(`inbound ${this.from}`);
    if (held >= 0) this.ctx.logger.warn('closed raft stream from remote peer', { 'remote-peer-id': formatId(this.from), reason, 'suppressed-logs': held });
    this.socket.destroy();
  }

  /** Periodic check: a keepalive to an idle sender, and closing a silent stream. */
  tick(now: number): void {
    if (this.closed) return;
    if (now - this.lastRead > this.ctx.config.readTimeoutMs) {
      this.close(`no data for ${this.ctx.config.readTimeoutMs} ms`);
      return;
    }
    if (now - this.lastWrite >= this.ctx.config.keepaliveIntervalMs && this.socket.writableLength === 0) {
      this.socket.write(KEEPALIVE_FRAME);
      this.lastWrite = now;
    }
  }

  private readonly onFrame = (buf: Uint8Array, start: number, end: number): void => {
    if (end === start) return;
    const m = decodeMessage(buf, start, end);
    this.counters.receivedMessages++;
    this.ctx.raft.process(m);
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.lastRead = this.ctx.now();
    this.counters.receivedBytes += chunk.length;
    // A member removed while its stream was open is cut off here (etcd refuses it the same way).
    if (this.ctx.raft.isIdRemoved(this.from)) {
      this.close('the member has been permanently removed from the cluster');
      return;
    }
    let error: string | undefined;
    try {
      error = this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      if (!isEtcdError(err, 'proto-decode')) throw err;
      error = `malformed message: ${err.message}`;
    }
    if (error !== undefined) this.close(error);
  };
}
