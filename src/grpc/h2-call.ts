/**
 * gRPC calls on our own HTTP/2 streams (src/pkg/h2): the request messages unframed, the handler
 * run with the call object grpc-js would give it (as far as etcd's handlers use one), the
 * answer sent as response headers, length-prefixed messages and a status in trailers (gRPC's
 * PROTOCOL-HTTP2 specification). Texts of the statuses this layer decides itself are grpc-go's,
 * which etcd's clients see from real etcd.
 */
import { EventEmitter } from 'node:events';
import type { Metadata } from '@grpc/grpc-js';
import { GrpcStatus } from '../api/rpctypes/index.js';
import type { H2Stream } from '../pkg/h2/h2-stream.js';
import { encodeHeaderBlock } from '../pkg/h2/hpack-encoder.js';
import { encodeGrpcMessage, MESSAGE_PREFIX_BYTES } from './grpc-frames.js';
import { COMPRESSED_WITHOUT_ENCODING_TEXT, receivedTooLargeText } from './grpc-go-status-text.js';

/** Response headers of every call that sends messages. */
export const RESPONSE_HEADER_BLOCK = encodeHeaderBlock([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
/** Trailers of a call that succeeded. grpc-go sends an empty grpc-message with status 0. */
export const OK_TRAILER_BLOCK = encodeHeaderBlock([
  ['grpc-status', '0'],
  ['grpc-message', ''],
]);

/** Trailers carrying `code` and `details`. */
export function statusTrailerBlock(code: number, details: string): Buffer {
  if (code === GrpcStatus.OK && details === '') return OK_TRAILER_BLOCK;
  return encodeHeaderBlock([
    ['grpc-status', String(code)],
    ['grpc-message', encodeGrpcMessage(details)],
  ]);
}

/** A response that is only a status: headers and status in one block, ending the stream. */
export function respondStatusOnly(stream: H2Stream, code: number, details: string): void {
  stream.respond(
    encodeHeaderBlock([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', String(code)],
      ['grpc-message', encodeGrpcMessage(details)],
    ]),
    true,
  );
}

/** A status as handlers give it (grpc-js's shape). */
export interface StatusLike {
  code?: number;
  details?: string;
  message?: string;
}

/** What a method needs from its codec. */
export interface MessageCodec {
  decode(bytes: Buffer): unknown;
  /** The response as one length-prefixed message. */
  frame(res: unknown): Buffer;
}

/**
 * Splits request DATA into messages: `onMessage` per whole message body, `onError` (once, then
 * nothing more) for one above `maxBytes` or one flagged compressed.
 */
export class MessageReader {
  private pending: Buffer | undefined;
  private failed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onMessage: (body: Buffer) => void,
    private readonly onError: (code: number, details: string) => void,
  ) {}

  /** Bytes of a message begun but not complete. */
  get partialBytes(): number {
    return this.pending?.length ?? 0;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (buf.length >= MESSAGE_PREFIX_BYTES && !this.failed) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxBytes) return this.fail(GrpcStatus.RESOURCE_EXHAUSTED, receivedTooLargeText(length, this.maxBytes));
      if (buf[0] !== 0) return this.fail(GrpcStatus.INTERNAL, COMPRESSED_WITHOUT_ENCODING_TEXT);
      if (buf.length < MESSAGE_PREFIX_BYTES + length) break;
      const body = buf.subarray(MESSAGE_PREFIX_BYTES, MESSAGE_PREFIX_BYTES + length);
      buf = buf.subarray(MESSAGE_PREFIX_BYTES + length);
      this.onMessage(body);
    }
    if (buf.length > 0 && !this.failed) this.pending = buf;
  }

  private fail(code: number, details: string): void {
    this.failed = true;
    this.pending = undefined;
    this.onError(code, details);
  }
}

/**
 * A streaming call (bidirectional, or server-streaming with its one `request`), shaped as the
 * part of grpc-js's ServerDuplexStream / ServerWritableStream etcd's handlers use: 'data' per
 * request message, 'end' when the client stops sending, `write` with back-pressure and 'drain',
 * `end` for an OK status, `emit('error', status)` for any other, 'cancelled' when the client goes
 * away first, 'finish' and 'close', `cancelled`, `metadata` and `request`.
 */
export class H2ServerCall extends EventEmitter {
  cancelled = false;
  request: unknown;
  private headersSent = false;
  private ended = false;

  constructor(
    private readonly stream: H2Stream,
    readonly metadata: Metadata,
    private readonly codec: MessageCodec,
    maxReceiveBytes: number,
  ) {
    super();
    // First listener: an emitted error ends the call with its status, as grpc-js's does.
    this.on('error', (err: StatusLike) => this.finish(err.code ?? GrpcStatus.UNKNOWN, err.details ?? err.message ?? ''));
    const reader = new MessageReader(
      maxReceiveBytes,
      (body) => this.emit('data', codec.decode(body)),
      (code, details) => this.emit('error', { code, details }),
    );
    stream.onData = (chunk) => {
      if (!this.ended) reader.push(chunk);
    };
    stream.onEnd = () => {
      if (!this.ended) this.emit('end');
    };
    stream.onDrain = () => this.emit('drain');
    stream.onClose = () => {
      if (!this.ended) {
        this.ended = true;
        this.cancelled = true;
        this.emit('cancelled');
      }
      this.emit('close');
    };
  }

  /** Sends one response message; false when the writer should wait for 'drain'. */
  write(msg: unknown): boolean {
    if (this.ended || this.stream.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADER_BLOCK);
    }
    return this.stream.write(this.codec.frame(msg));
  }

  /** Nothing to do: the connection sends everything written in one turn together. */
  cork(): void {}

  /** See `cork`. */
  uncork(): void {}

  /** Ends the call with an OK status. */
  end(): void {
    this.finish(GrpcStatus.OK, '');
  }

  private finish(code: number, details: string): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.stream.closed) {
      if (!this.headersSent) respondStatusOnly(this.stream, code, details);
      else this.stream.end(statusTrailerBlock(code, details));
    }
    this.emit('finish');
  }
}
