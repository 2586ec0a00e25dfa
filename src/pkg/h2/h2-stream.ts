/**
 * One request stream of an {@link H2ServerConnection} (RFC 9113 §5.1), as its user sees it: the
 * request's DATA arrives through `onData`, its end through `onEnd`; the answer goes out with
 * `respond` (a header block), `write` (DATA, flow-controlled) and `end` (trailers, END_STREAM).
 * `onClose` is called once when the stream is over: `reset` is true when it ended without our
 * END_STREAM (the client reset it, or the connection went away).
 */

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** Frames the stream's queued DATA (and its trailers once the queue is empty) as windows allow. */
  sendQueued(stream: H2Stream): void;
  /** Sends a header block on the stream. */
  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void;
  /** Sends RST_STREAM and forgets the stream. */
  resetStream(stream: H2Stream, code: number): void;
  /** `write` returned false: call `onDrain` once the stream and the socket can take more. */
  awaitDrain(stream: H2Stream): void;
  /** False while the bytes waiting to go out (unflushed or in the socket) pass the high-water mark. */
  readonly socketWritable: boolean;
}

/** Bytes queued on a stream above which `write` asks the writer to wait for `onDrain`. */
export const STREAM_HIGH_WATER_BYTES = 64 * 1024;

export class H2Stream {
  /** Request DATA, in order. The buffer may be kept. */
  onData: ((chunk: Buffer) => void) | undefined;
  /** The client has sent END_STREAM. */
  onEnd: (() => void) | undefined;
  /** After `write` returned false: the stream can take more. */
  onDrain: (() => void) | undefined;
  /** The stream is over (once); `reset`: it ended without our END_STREAM. */
  onClose: ((reset: boolean) => void) | undefined;

  /** Bytes the peer lets us send on this stream (may go negative after a SETTINGS change, §6.9.2). */
  sendWindow: number;
  /** Bytes the peer may still send before we grant more. */
  recvWindow: number;
  /** Bytes received since the last WINDOW_UPDATE we sent for this stream. */
  recvUnacked = 0;
  /** DATA waiting for window. */
  readonly queue: Buffer[] = [];
  queuedBytes = 0;
  /** Trailers to send once `queue` is empty. */
  trailers: Uint8Array | undefined;
  headersSent = false;
  /** We sent END_STREAM (or will, once the queue drains: `trailers` is set). */
  localEnded = false;
  remoteEnded = false;
  closed = false;
  /** `write` returned false and `onDrain` is owed. */
  needDrain = false;

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** Sends the response header block; `endStream` for a headers-only (trailers-only) answer. */
  respond(block: Uint8Array, endStream = false): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    if (endStream) this.localEnded = true;
    this.owner.sendHeaders(this, block, endStream);
  }

  /** Sends DATA (after `respond`); false when the writer should wait for `onDrain`. */
  write(data: Buffer): boolean {
    if (this.closed || this.localEnded) return false;
    this.queue.push(data);
    this.queuedBytes += data.length;
    this.owner.sendQueued(this);
    if (this.queuedBytes < STREAM_HIGH_WATER_BYTES && this.owner.socketWritable) return true;
    if (this.closed) return false;
    this.needDrain = true;
    this.owner.awaitDrain(this);
    return false;
  }

  /** Sends `trailers` with END_STREAM after the queued DATA. */
  end(trailers: Uint8Array): void {
    if (this.closed || this.localEnded) return;
    this.localEnded = true;
    this.trailers = trailers;
    this.owner.sendQueued(this);
  }

  /** Abandons the stream with RST_STREAM `code`. */
  reset(code: number): void {
    if (this.closed) return;
    this.owner.resetStream(this, code);
  }
}
