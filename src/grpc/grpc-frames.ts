/**
 * gRPC messages on the wire (gRPC's PROTOCOL-HTTP2 specification): the 5-byte message framing
 * and grpc-message's percent-encoding.
 */
import { GRPC_MESSAGE_PREFIX_BYTES, writeGrpcMessagePrefix } from '../api/codec.js';

/** Bytes before each message: compressed flag and 32-bit length. */
export const MESSAGE_PREFIX_BYTES = GRPC_MESSAGE_PREFIX_BYTES;

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
