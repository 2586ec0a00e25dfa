/**
 * gRPC over HTTP/2 on the server side, the pieces the fast paths share: response headers, the
 * 5-byte message framing, and statuses as trailers (gRPC's PROTOCOL-HTTP2 specification).
 */
import type { ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { GRPC_MESSAGE_PREFIX_BYTES, writeGrpcMessagePrefix } from '../api/codec.js';

/** Bytes before each message: compressed flag and 32-bit length. */
export const MESSAGE_PREFIX_BYTES = GRPC_MESSAGE_PREFIX_BYTES;

/** Headers of every response. */
export const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' };

// `sendDate: false` (an option Node reads but its types omit): grpc-go's server sends no date
// header, and Node would format one for every call.
/** Options of a response whose trailers follow its messages. */
export const RESPOND_WITH_TRAILERS = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;
/** Options of a trailers-only response. */
const RESPOND_STATUS_ONLY = { endStream: true, sendDate: false } as ServerStreamResponseOptions;

/** grpc-message is percent-encoded outside printable ASCII (and `%` itself). */
export function encodeGrpcMessage(text: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `body` as one uncompressed length-prefixed message. */
export function frameMessage(body: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + body.length);
  body.copy(framed, MESSAGE_PREFIX_BYTES);
  return writeGrpcMessagePrefix(framed);
}

/** Answers with a status and nothing else (a trailers-only response). */
export function respondWithStatus(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, RESPOND_STATUS_ONLY);
}
