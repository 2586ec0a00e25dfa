/** HTTP/2 bytes for the listener's tests: the client preface, frames, and `:authority` header fields. */

/** `s` as bytes, from hex. */
export const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** `:authority: http://127.0.0.1:2379` as etcd 3.4 clients send it (literal, incremental indexing, Huffman). */
export const URL_AUTHORITY = hex('418f9d29aee30c044eae05c0b86e09975f');

/** `:authority: 127.0.0.1:2379`, what the rewriter turns it into (literal, not Huffman-coded). */
export const PLAIN_AUTHORITY = Buffer.concat([hex('410e'), Buffer.from('127.0.0.1:2379')]);

/** One frame: 9-byte header (RFC 9113 §4.1) and payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}
