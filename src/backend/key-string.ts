/**
 * Keys as latin1 strings: one character per byte, so `<` on two such strings orders them exactly
 * as the bytes compare (etcd's `bytes.Compare`), and they serve as Map keys.
 */

/** The latin1 string of `key`'s bytes. */
export function keyString(key: Uint8Array): string {
  const b = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.toString('latin1');
}

/** The latin1 string of `bytes[start, end)`, without an intermediate view. */
export function keyStringAt(bytes: Uint8Array, start: number, end: number): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('latin1', start, end);
}

/** The bytes of a latin1 key string (a new Buffer). */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}
