/**
 * A bidirectional-streaming call served straight on its HTTP/2 stream (see call-fast-path.ts),
 * shaped as the part of grpc-js's ServerDuplexStream that etcd's stream handlers (Watch,
 * LeaseKeepAlive) use: 'data' per request message, 'end' when the client stops sending,
 * `write` with back-pressure and 'drain', `end` for an OK status, `emit('error', status)` for any
 * other, 'cancelled' when the client goes away first, 'finish' and 'close', `cancelled` and
 * `metadata`. Each response is one framed message written to the stream; no per-message queue.
 */
import { EventEmitter } from 'node:events';
import type { Metadata } from '@grpc/grpc-js';
import type { ServerHttp2Stream } from 'node:http2';
import { GrpcStatus } from '../api/rpctypes/index.js';
import { encodeGrpcMessage, MESSAGE_PREFIX_BYTES, RESPOND_WITH_TRAILERS, RESPONSE_HEADERS, respondWithStatus } from './grpc-frames.js';
import { COMPRESSED_WITHOUT_ENCODING_TEXT, receivedTooLargeText } from './grpc-go-status-text.js';


/** A status as handlers emit it (grpc-js's shape). */
interface StatusLike {
  code?: number;
  details?: string;
  message?: string;
}

export class FastDuplexCall extends EventEmitter {
  cancelled = false;
  private headersSent = false;
  private ended = false;
  private pending: Buffer | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly metadata: Metadata,
    private readonly decode: (bytes: Buffer) => unknown,
    /** A response as one length-prefixed message. */
    private readonly frame: (msg: unknown) => Buffer,
    private readonly maxReceiveBytes: number,
  ) {
    super();
    // First listener: an emitted error ends the call with its status, as grpc-js's does.
    this.on('error', (err: StatusLike) => this.finish(err.code ?? GrpcStatus.UNKNOWN, err.details ?? err.message ?? ''));
    stream.on('data', (chunk: Buffer) => this.onChunk(chunk));
    stream.on('end', () => {
      if (!this.ended) this.emit('end');
    });
    stream.on('drain', () => this.emit('drain'));
    // A reset by the client ends in 'close' as well; there is nobody left to answer.
    stream.on('error', () => {});
    stream.on('close', () => {
      if (!this.ended) {
        this.ended = true;
        this.cancelled = true;
        this.emit('cancelled');
      }
      this.emit('close');
    });
  }

  /** Sends one response message; false when the stream's buffer is full (wait for 'drain'). */
  write(msg: unknown): boolean {
    if (this.ended || this.stream.destroyed || this.stream.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
    }
    return this.stream.write(this.frame(msg));
  }

  /** Holds written messages until `uncork`, which hands them to the stream in one write. */
  cork(): void {
    this.stream.cork();
  }

  /** See `cork`. */
  uncork(): void {
    this.stream.uncork();
  }

  /** Ends the call with an OK status. */
  end(): void {
    this.finish(GrpcStatus.OK, 'OK');
  }

  private finish(code: number, details: string): void {
    if (this.ended) return;
    this.ended = true;
    const s = this.stream;
    if (!s.destroyed && !s.closed) {
      if (!this.headersSent) {
        respondWithStatus(s, code, details);
      } else {
        s.once('wantTrailers', () => s.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }));
        s.end();
      }
    }
    this.emit('finish');
  }

  /** Unframes the request messages in `chunk` (a message may span chunks) and emits each. */
  private onChunk(chunk: Buffer): void {
    if (this.ended) return;
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (buf.length >= MESSAGE_PREFIX_BYTES && !this.ended) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxReceiveBytes) {
        this.emit('error', { code: GrpcStatus.RESOURCE_EXHAUSTED, details: receivedTooLargeText(length, this.maxReceiveBytes) });
        return;
      }
      if (buf.length < MESSAGE_PREFIX_BYTES + length) break;
      if (buf[0] !== 0) {
        this.emit('error', { code: GrpcStatus.INTERNAL, details: COMPRESSED_WITHOUT_ENCODING_TEXT });
        return;
      }
      const body = buf.subarray(MESSAGE_PREFIX_BYTES, MESSAGE_PREFIX_BYTES + length);
      buf = buf.subarray(MESSAGE_PREFIX_BYTES + length);
      this.emit('data', this.decode(body));
    }
    if (buf.length > 0 && !this.ended) this.pending = Buffer.from(buf);
  }
}
