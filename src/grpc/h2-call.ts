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
import { UndecodableRequest } from './request-decoding.js';

/** The content type of gRPC without a subtype, which nearly every client sends. */
export const GRPC_CONTENT_TYPE = 'application/grpc';

/**
 * The subtype of a request's content type (`proto` of `application/grpc+proto`; '' for plain
 * `application/grpc`), or undefined when the request is not gRPC. grpc-go accepts exactly these
 * spellings (case-sensitive, `+` or `;` before the subtype) and resets any other request.
 */
export function grpcContentSubtype(contentType: string): string | undefined {
  if (contentType === GRPC_CONTENT_TYPE) return '';
  if (!contentType.startsWith(GRPC_CONTENT_TYPE)) return undefined;
  const sep = contentType.charCodeAt(GRPC_CONTENT_TYPE.length);
  return sep === 0x2b || sep === 0x3b ? contentType.slice(GRPC_CONTENT_TYPE.length + 1) : undefined;
}

/** The content type grpc-go answers a request of `subtype` with: `application/grpc+<subtype>`. */
export function responseContentType(subtype: string): string {
  return subtype === '' ? GRPC_CONTENT_TYPE : `${GRPC_CONTENT_TYPE}+${subtype}`;
}

/** Response headers of every call that sends messages (and whose content type has no subtype). */
export const RESPONSE_HEADER_BLOCK = encodeHeaderBlock([
  [':status', '200'],
  ['content-type', GRPC_CONTENT_TYPE],
]);

/** Response headers of a call that sends messages, answered with `contentType`. */
export function responseHeaderBlock(contentType: string): Buffer {
  if (contentType === GRPC_CONTENT_TYPE) return RESPONSE_HEADER_BLOCK;
  return encodeHeaderBlock([
    [':status', '200'],
    ['content-type', contentType],
  ]);
}

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

/**
 * A response that is only a status: headers and status in one block, ending the stream. grpc-go
 * sends `content-type` here too (the request's, see {@link responseContentType}).
 */
export function respondStatusOnly(stream: H2Stream, code: number, details: string, contentType = GRPC_CONTENT_TYPE): void {
  stream.respond(
    encodeHeaderBlock([
      [':status', '200'],
      ['content-type', contentType],
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

/**
 * The call object a unary handler gets on our edge: what etcd's handlers read of grpc-js's
 * ServerUnaryCall (`request`, `metadata`, `cancelled`), and its 'cancelled' event for the few
 * that wait (Lock, Campaign). Listeners are kept only when asked for: most calls have none.
 */
export class UnaryCallState {
  request: unknown = undefined;
  cancelled = false;
  private listeners: (() => void)[] | undefined;

  constructor(readonly metadata: Metadata) {}

  /** Adds a 'cancelled' listener (other events never fire on a unary call). */
  on(event: string, listener: () => void): this {
    if (event === 'cancelled') (this.listeners ??= []).push(listener);
    return this;
  }

  /** Removes a listener added with `on`. */
  off(event: string, listener: () => void): this {
    const at = event === 'cancelled' ? (this.listeners?.indexOf(listener) ?? -1) : -1;
    if (at >= 0) this.listeners!.splice(at, 1);
    return this;
  }

  /** The client went away before the answer: sets `cancelled` and tells the listeners, once. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const l of listeners) l();
  }
}

/** What a method needs from its codec. */
export interface MessageCodec {
  decode(bytes: Buffer): unknown;
  /** The response as one length-prefixed message. */
  frame(res: unknown): Buffer;
}

/** grpc-go's text for a message whose flag byte is neither 0 (plain) nor 1 (compressed). */
export function unexpectedPayloadFormatText(flag: number): string {
  return `grpc: received unexpected payload format ${flag}`;
}

/** The prefix of {@link UndecodableRequest}'s text (a unary call's, grpc-go's processUnaryRPC). */
const UNARY_UNMARSHAL_PREFIX = 'grpc: error unmarshalling request: ';

/**
 * grpc-go's text for a streaming call's request that does not decode: its RecvMsg words the
 * failure differently from a unary call's (and without a colon).
 */
export function streamUnmarshalText(req: UndecodableRequest): string {
  const text = req.status.details;
  const cause = text.startsWith(UNARY_UNMARSHAL_PREFIX) ? text.slice(UNARY_UNMARSHAL_PREFIX.length) : text;
  return `grpc: failed to unmarshal the received message ${cause}`;
}

/**
 * Splits request DATA into messages: `onMessage` per whole message body, `onError` (once, then
 * nothing more) for one above `maxBytes` (as soon as its prefix says so) or, once whole, one not
 * plain (the edge refuses every call with a compression before reading it, so a compressed flag
 * is an error), in grpc-go's order and words.
 */
export class MessageReader {
  private pending: Buffer | undefined;
  private stopped = false;

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
    if (this.stopped) return;
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (buf.length >= MESSAGE_PREFIX_BYTES && !this.stopped) {
      const length = buf.readUInt32BE(1);
      if (length > this.maxBytes) return this.fail(GrpcStatus.RESOURCE_EXHAUSTED, receivedTooLargeText(length, this.maxBytes));
      if (buf.length < MESSAGE_PREFIX_BYTES + length) break;
      const flag = buf[0]!;
      if (flag !== 0) return this.fail(GrpcStatus.INTERNAL, flag === 1 ? COMPRESSED_WITHOUT_ENCODING_TEXT : unexpectedPayloadFormatText(flag));
      const body = buf.subarray(MESSAGE_PREFIX_BYTES, MESSAGE_PREFIX_BYTES + length);
      buf = buf.subarray(MESSAGE_PREFIX_BYTES + length);
      this.onMessage(body);
    }
    if (buf.length > 0 && !this.stopped) this.pending = buf;
  }

  /** Ignores all further input (the call has read what it reads). */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
  }

  private fail(code: number, details: string): void {
    this.stop();
    this.onError(code, details);
  }
}

/**
 * A streaming call (bidirectional, or server-streaming with its one `request`), shaped as the
 * part of grpc-js's ServerDuplexStream / ServerWritableStream etcd's handlers use: 'data' per
 * request message, 'end' when the client stops sending, `write` with back-pressure and 'drain',
 * `end` for an OK status, `emit('error', status)` for any other, 'cancelled' when the client goes
 * away first, 'finish' and 'close', `cancelled`, `metadata` and `request`.
 *
 * Request input that grpc-go's RecvMsg would fail on ends the call with its status instead of
 * reaching the handler: a message that does not decode, one too large or flagged, and a message
 * cut short by the client's end of stream (INTERNAL "unexpected EOF").
 */
export class H2ServerCall extends EventEmitter {
  cancelled = false;
  request: unknown;
  private headersSent = false;
  private ended = false;
  private readonly reader: MessageReader;

  constructor(
    private readonly stream: H2Stream,
    readonly metadata: Metadata,
    private readonly codec: MessageCodec,
    maxReceiveBytes: number,
    private readonly contentType = GRPC_CONTENT_TYPE,
  ) {
    super();
    // First listener: an emitted error ends the call with its status, as grpc-js's does.
    this.on('error', (err: StatusLike) => this.finish(err.code ?? GrpcStatus.UNKNOWN, err.details ?? err.message ?? ''));
    const reader = new MessageReader(
      maxReceiveBytes,
      (body) => {
        const req = codec.decode(body);
        if (req instanceof UndecodableRequest) {
          reader.stop();
          this.emit('error', { code: GrpcStatus.INTERNAL, details: streamUnmarshalText(req) });
          return;
        }
        this.emit('data', req);
      },
      (code, details) => this.emit('error', { code, details }),
    );
    this.reader = reader;
    stream.onData = (chunk) => {
      if (!this.ended) reader.push(chunk);
    };
    stream.onEnd = () => {
      if (this.ended) return;
      if (reader.partialBytes > 0) {
        reader.stop();
        this.emit('error', { code: GrpcStatus.INTERNAL, details: 'unexpected EOF' });
        return;
      }
      this.emit('end');
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

  /** Stops reading requests: what the client sends from now on is ignored ('data', 'end' and errors alike). */
  stopReading(): void {
    this.reader.stop();
    this.stream.onEnd = undefined;
  }

  /** Sends one response message; false when the writer should wait for 'drain'. */
  write(msg: unknown): boolean {
    if (this.ended || this.stream.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(responseHeaderBlock(this.contentType));
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
      if (!this.headersSent) respondStatusOnly(this.stream, code, details, this.contentType);
      else this.stream.end(statusTrailerBlock(code, details));
    }
    this.emit('finish');
  }
}
