/**
 * Repairs the `:authority` of HTTP/2 request header blocks. etcd 3.4 clients (etcdctl built
 * against the gRPC versions Debian ships) send the endpoint URL itself, `http://127.0.0.1:2379`,
 * as `:authority`. Go's HTTP/2 server lets that through; Node's (nghttp2) resets the stream with
 * PROTOCOL_ERROR, since `/` may not appear in an authority (RFC 3986 §3.2). We rewrite the value
 * to `127.0.0.1:2379` inside the HPACK block (RFC 7541) before the server decodes it.
 *
 * Only literal representations of `:authority` are rewritten (by static name index 1 or by a
 * literal name); indexed references then resolve to the repaired value, because the server's
 * dynamic table holds what we sent. A rewritten entry is never larger than the original, so the
 * server's table never evicts an entry the client still refers to.
 */

import { huffmanDecode } from '../../pkg/h2/hpack-huffman.js';

/** Reads an HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function readInt(buf: Uint8Array, pos: number, prefixBits: number): { value: number; next: number } | undefined {
  if (pos >= buf.length) return undefined;
  const max = (1 << prefixBits) - 1;
  let value = buf[pos]! & max;
  pos++;
  if (value < max) return { value, next: pos };
  let shift = 0;
  for (;;) {
    if (pos >= buf.length || shift > 28) return undefined;
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next: pos };
  }
}

/** Writes an HPACK integer with an N-bit prefix, keeping the first byte's high bits. */
function writeInt(out: number[], value: number, prefixBits: number, highBits: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(highBits | value);
    return;
  }
  out.push(highBits | max);
  value -= max;
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** Reads a string literal (RFC 7541 §5.2): its text, and where it ends. */
function readString(buf: Uint8Array, pos: number): { text: string; next: number } | undefined {
  if (pos >= buf.length) return undefined;
  const huffman = (buf[pos]! & 0x80) !== 0;
  const len = readInt(buf, pos, 7);
  if (len === undefined || len.next + len.value > buf.length) return undefined;
  const end = len.next + len.value;
  const text = huffman ? huffmanDecode(buf, len.next, end) : Buffer.from(buf.subarray(len.next, end)).toString('latin1');
  return text === undefined ? undefined : { text, next: end };
}

/** The authority inside a URL-shaped value (`http://h:p` → `h:p`); other values unchanged. */
export function repairAuthority(value: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value);
  if (scheme === null) return value;
  const rest = value.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

/**
 * Rewrites a request header block so that its `:authority` values are valid authorities.
 * Returns the new block, or undefined when nothing needed changing (or the block could not be
 * read: the server then judges it as sent).
 */
export function rewriteAuthorityInBlock(block: Uint8Array): Buffer | undefined {
  const out: number[] = [];
  let changed = false;
  let pos = 0;
  while (pos < block.length) {
    const start = pos;
    const b = block[pos]!;
    if ((b & 0x80) !== 0 || (b & 0xe0) === 0x20) {
      // Indexed field (§6.1) or dynamic table size update (§6.3): copy.
      const n = readInt(block, pos, (b & 0x80) !== 0 ? 7 : 5);
      if (n === undefined) return undefined;
      pos = n.next;
      for (let i = start; i < pos; i++) out.push(block[i]!);
      continue;
    }
    // Literal field (§6.2): incremental indexing (6-bit name index), or without / never indexed (4-bit).
    const prefixBits = (b & 0xc0) === 0x40 ? 6 : 4;
    const index = readInt(block, pos, prefixBits);
    if (index === undefined) return undefined;
    pos = index.next;
    let isAuthority = index.value === 1;
    if (index.value === 0) {
      const name = readString(block, pos);
      if (name === undefined) return undefined;
      isAuthority = name.text === ':authority';
      pos = name.next;
    }
    const valueStart = pos;
    const value = readString(block, pos);
    if (value === undefined) return undefined;
    pos = value.next;
    const repaired = isAuthority ? repairAuthority(value.text) : value.text;
    if (repaired === value.text) {
      for (let i = start; i < pos; i++) out.push(block[i]!);
      continue;
    }
    changed = true;
    for (let i = start; i < valueStart; i++) out.push(block[i]!);
    writeInt(out, repaired.length, 7, 0x00);
    for (let i = 0; i < repaired.length; i++) out.push(repaired.charCodeAt(i) & 0xff);
  }
  return changed ? Buffer.from(out) : undefined;
}
