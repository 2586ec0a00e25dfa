import { EMPTY_BYTES, type KeyValue } from './key-value.js';
import { varintLen } from '../pkg/varint.js';

/**
 * The stored form of a KeyValue: the protobuf wire bytes of etcd's `mvccpb.KeyValue` (key=1,
 * create_revision=2, mod_revision=3, version=4, value=5, lease=6; proto3, zero fields left out),
 * so the `key` bucket holds what etcd's would and hashes compare field for field.
 */

const TAG_KEY = 0x0a;
const TAG_CREATE = 0x10;
const TAG_MOD = 0x18;
const TAG_VERSION = 0x20;
const TAG_VALUE = 0x2a;
const TAG_LEASE = 0x30;

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** A lease ID as the uint64 a proto int64 varint carries (two's complement for negatives). */
function leaseBits(lease: bigint): bigint {
  return BigInt.asUintN(64, lease);
}

function bigVarintLen(n: bigint): number {
  let len = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    len++;
  }
  return len;
}

function writeBigVarint(out: Uint8Array, at: number, n: bigint): number {
  while (n >= 0x80n) {
    out[at++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  out[at++] = Number(n);
  return at;
}

/** Encodes `kv` as mvccpb.KeyValue wire bytes (a new array). */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const { key, value } = kv;
  const lease = kv.lease === 0n ? 0n : leaseBits(kv.lease);
  let size = 0;
  if (key.length > 0) size += 1 + varintLen(key.length) + key.length;
  if (kv.createRevision !== 0) size += 1 + varintLen(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + varintLen(kv.modRevision);
  if (kv.version !== 0) size += 1 + varintLen(kv.version);
  if (value.length > 0) size += 1 + varintLen(value.length) + value.length;
  if (lease !== 0n) size += 1 + bigVarintLen(lease);
  const out = new Uint8Array(size);
  let at = 0;
  if (key.length > 0) {
    out[at++] = TAG_KEY;
    at = writeVarint(out, at, key.length);
    out.set(key, at);
    at += key.length;
  }
  if (kv.createRevision !== 0) {
    out[at++] = TAG_CREATE;
    at = writeVarint(out, at, kv.createRevision);
  }
  if (kv.modRevision !== 0) {
    out[at++] = TAG_MOD;
    at = writeVarint(out, at, kv.modRevision);
  }
  if (kv.version !== 0) {
    out[at++] = TAG_VERSION;
    at = writeVarint(out, at, kv.version);
  }
  if (value.length > 0) {
    out[at++] = TAG_VALUE;
    at = writeVarint(out, at, value.length);
    out.set(value, at);
    at += value.length;
  }
  if (lease !== 0n) {
    out[at++] = TAG_LEASE;
    writeBigVarint(out, at, lease);
  }
  return out;
}

/**
 * The fields of a stored KeyValue without copying key or value: offsets into the decoded bytes.
 * Filled by `readKeyValue`, reused across calls on hot paths.
 */
export class KeyValueFields {
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  createRevision = 0;
  modRevision = 0;
  version = 0;
  lease = 0n;
}

function corrupt(what: string): never {
  throw new Error(`mvcc: corrupt KeyValue record: ${what}`);
}

/** Decodes the wire bytes `b` into `out` (offsets into `b`). Throws on malformed input. */
export function readKeyValue(b: Uint8Array, out: KeyValueFields): KeyValueFields {
  out.keyStart = out.keyEnd = out.valueStart = out.valueEnd = 0;
  out.createRevision = out.modRevision = out.version = 0;
  out.lease = 0n;
  let at = 0;
  const n = b.length;
  while (at < n) {
    let tag = b[at++]!;
    if (tag >= 0x80) {
      // A multi-byte tag: a field number of 16 or more, none of ours; read it to skip the field.
      let mul = 128;
      tag &= 0x7f;
      for (;;) {
        if (at >= n) corrupt('truncated tag');
        const byte = b[at++]!;
        tag += (byte & 0x7f) * mul;
        mul *= 128;
        if (byte < 0x80) break;
      }
    }
    const wire = tag % 8;
    // Varint body, read as a float number: exact up to 2^53, which revisions and lengths stay under.
    let v = 0;
    let big: bigint | undefined;
    if (wire === 0 || wire === 2) {
      let mul = 1;
      let shift = 0n;
      for (;;) {
        if (at >= n) corrupt('truncated varint');
        const byte = b[at++]!;
        if (tag === TAG_LEASE) {
          big = (big ?? 0n) | (BigInt(byte & 0x7f) << shift);
          shift += 7n;
        } else {
          v += (byte & 0x7f) * mul;
          mul *= 128;
        }
        if (byte < 0x80) break;
      }
    } else if (wire === 1) {
      at += 8;
      continue;
    } else if (wire === 5) {
      at += 4;
      continue;
    } else {
      corrupt(`unexpected wire type ${wire}`);
    }
    switch (tag) {
      case TAG_KEY:
        if (at + v > n) corrupt('key overruns record');
        out.keyStart = at;
        out.keyEnd = at += v;
        break;
      case TAG_CREATE:
        out.createRevision = v;
        break;
      case TAG_MOD:
        out.modRevision = v;
        break;
      case TAG_VERSION:
        out.version = v;
        break;
      case TAG_VALUE:
        if (at + v > n) corrupt('value overruns record');
        out.valueStart = at;
        out.valueEnd = at += v;
        break;
      case TAG_LEASE:
        out.lease = BigInt.asIntN(64, big ?? 0n);
        break;
      default:
        // An unknown field: skip its body as protobuf readers do.
        if (wire === 2) at += v;
    }
  }
  return out;
}

function copyOf(b: Uint8Array, start: number, end: number): Uint8Array {
  if (start === end) return EMPTY_BYTES;
  const out = new Uint8Array(end - start);
  out.set(b.subarray(start, end));
  return out;
}

const scratch = new KeyValueFields();

/**
 * Decodes mvccpb.KeyValue wire bytes into a KeyValue owning copies of its key and value, so `b`
 * may be a short-lived view. With `keysOnly` the value is left empty. Key and value share one
 * copied buffer: one allocation instead of two, which is most of the cost of a read.
 */
export function decodeKeyValue(b: Uint8Array, keysOnly = false): KeyValue {
  const f = readKeyValue(b, scratch);
  let key: Uint8Array;
  let value: Uint8Array;
  if (keysOnly || f.valueStart === f.valueEnd) {
    key = copyOf(b, f.keyStart, f.keyEnd);
    value = EMPTY_BYTES;
  } else if (f.keyStart === f.keyEnd) {
    key = EMPTY_BYTES;
    value = copyOf(b, f.valueStart, f.valueEnd);
  } else {
    const lo = Math.min(f.keyStart, f.valueStart);
    const both = copyOf(b, lo, Math.max(f.keyEnd, f.valueEnd));
    key = both.subarray(f.keyStart - lo, f.keyEnd - lo);
    value = both.subarray(f.valueStart - lo, f.valueEnd - lo);
  }
  return { key, createRevision: f.createRevision, modRevision: f.modRevision, version: f.version, value, lease: f.lease };
}
