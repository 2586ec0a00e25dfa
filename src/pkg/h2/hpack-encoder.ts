/**
 * A stateless HPACK encoder (RFC 7541). It never adds to the peer's dynamic table: a field whose
 * exact name and value are in the static table becomes an indexed field (§6.1), every other
 * field a literal without indexing (§6.2.2), with the static name index when there is one. So
 * the encoder needs no per-connection state, and an encoded block can be cached and re-sent on
 * any connection forever.
 */

import { Buffer } from 'node:buffer';
import { STATIC_TABLE } from './hpack-static-table.js';

/** Static name → its first (lowest) HPACK index. */
const STATIC_NAME_INDEX = new Map<string, number>();
/** Static name → value → HPACK index of that exact pair. */
const STATIC_PAIR_INDEX = new Map<string, Map<string, number>>();
for (let i = 0; i < STATIC_TABLE.length; i++) {
  const [name, value] = STATIC_TABLE[i]!;
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
  // Empty static values mean "name only": a field with an empty value is still sent as a
  // literal, as with any other value missing from the table.
  if (value === '') continue;
  let values = STATIC_PAIR_INDEX.get(name);
  if (values === undefined) STATIC_PAIR_INDEX.set(name, (values = new Map()));
  values.set(value, i + 1);
}

// Per-field plan of the last call, reused: > 0 indexed (static index), < 0 literal with static
// name index -plan, 0 literal with a literal name.
let plans = new Int32Array(64);

/**
 * Encodes a header list as one header block. Names must already be lowercase (RFC 9113 §8.2.2)
 * and names and values latin1 (each char code <= 0xff: HTTP/2 field octets); higher code units
 * are truncated to their low byte. Returns a fresh Buffer that the caller owns.
 */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Buffer {
  if (plans.length < fields.length) plans = new Int32Array(fields.length * 2);
  let size = 0;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    const exact = STATIC_PAIR_INDEX.get(name)?.get(value);
    if (exact !== undefined) {
      plans[i] = exact;
      size += 1;
      continue;
    }
    const nameIndex = STATIC_NAME_INDEX.get(name);
    if (nameIndex !== undefined) {
      plans[i] = -nameIndex;
      size += integerLength(nameIndex, 0x0f);
    } else {
      plans[i] = 0;
      size += 1 + integerLength(name.length, 0x7f) + name.length;
    }
    size += integerLength(value.length, 0x7f) + value.length;
  }

  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    const plan = plans[i]!;
    if (plan > 0) {
      // RFC 7541 §6.1: indexed header field; every static index fits the 7-bit prefix.
      out[pos++] = 0x80 | plan;
      continue;
    }
    if (plan < 0) {
      // RFC 7541 §6.2.2: literal without indexing, indexed name (4-bit prefix).
      pos = writeInteger(out, pos, -plan, 0x0f, 0x00);
    } else {
      // RFC 7541 §6.2.2: literal without indexing, new name.
      out[pos++] = 0x00;
      pos = writeString(out, pos, name);
    }
    pos = writeString(out, pos, value);
  }
  return out;
}

/** Octets of an integer with a prefix whose all-ones value is `prefixMax` (RFC 7541 §5.1). */
function integerLength(value: number, prefixMax: number): number {
  if (value < prefixMax) return 1;
  let length = 2;
  for (let rest = value - prefixMax; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}

/** Writes an integer after the high bits `pattern` of its first octet (RFC 7541 §5.1). */
function writeInteger(out: Buffer, pos: number, value: number, prefixMax: number, pattern: number): number {
  if (value < prefixMax) {
    out[pos++] = pattern | value;
    return pos;
  }
  out[pos++] = pattern | prefixMax;
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** Writes a string literal without Huffman coding (RFC 7541 §5.2, H = 0). */
function writeString(out: Buffer, pos: number, text: string): number {
  const length = text.length;
  pos = writeInteger(out, pos, length, 0x7f, 0x00);
  // Short strings are cheaper copied by hand than through a native call.
  if (length < 32) {
    for (let i = 0; i < length; i++) out[pos + i] = text.charCodeAt(i);
  } else {
    out.write(text, pos, length, 'latin1');
  }
  return pos + length;
}
