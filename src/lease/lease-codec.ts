/**
 * The stored form of a lease in the backend's `lease` bucket, as etcd keeps it: the key is the
 * lease ID as 8 big-endian bytes, the value the protobuf wire bytes of `leasepb.Lease`
 * (ID = 1, TTL = 2, RemainingTTL = 3, all int64; proto3, so zero fields are left out).
 */

/** Name of the backend bucket holding the leases. */
export const LEASE_BUCKET = 'lease';

/** One stored lease record (etcd's leasepb.Lease). */
export interface LeaseRecord {
  readonly id: bigint;
  /** Granted TTL in seconds (after the minimum TTL raise). */
  readonly ttl: number;
  /** Last checkpointed remaining TTL in seconds; 0 when never checkpointed. */
  readonly remainingTtl: number;
}

const TAG_ID = 0x08;
const TAG_TTL = 0x10;
const TAG_REMAINING_TTL = 0x18;

const TWO_POW_63 = 2n ** 63n;

/** The bucket key of lease `id`: its int64 two's complement bits, big-endian. */
export function leaseKey(id: bigint): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt.asUintN(64, id));
  return key;
}

/** The lease ID of a bucket key written by `leaseKey`. */
export function leaseIdOfKey(key: Uint8Array): bigint {
  if (key.byteLength !== 8) throw new Error(`lease: bucket key of ${key.byteLength} bytes, want 8`);
  return new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0);
}

function pushVarint(out: number[], v: bigint): void {
  let n = BigInt.asUintN(64, v);
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
}

function pushSmallVarint(out: number[], n: number): void {
  // Non-negative safe integers avoid BigInt; int64 negatives take the 10-byte form.
  if (n < 0 || !Number.isSafeInteger(n)) {
    pushVarint(out, BigInt(n));
    return;
  }
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** Encodes `r` as leasepb.Lease wire bytes (a new array). */
export function encodeLease(r: LeaseRecord): Uint8Array {
  const out: number[] = [];
  if (r.id !== 0n) {
    out.push(TAG_ID);
    pushVarint(out, r.id);
  }
  if (r.ttl !== 0) {
    out.push(TAG_TTL);
    pushSmallVarint(out, r.ttl);
  }
  if (r.remainingTtl !== 0) {
    out.push(TAG_REMAINING_TTL);
    pushSmallVarint(out, r.remainingTtl);
  }
  return Uint8Array.from(out);
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.b.byteLength;
  }

  byte(): number {
    if (this.pos >= this.b.byteLength) throw new Error('lease: truncated leasepb.Lease');
    return this.b[this.pos++]!;
  }

  /** A varint as the uint64 it encodes. */
  varint(): bigint {
    let shift = 0n;
    let n = 0n;
    for (let i = 0; i < 10; i++) {
      const c = this.byte();
      n |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return BigInt.asUintN(64, n);
      shift += 7n;
    }
    throw new Error('lease: varint longer than 10 bytes in leasepb.Lease');
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.advance(Number(this.varint()));
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`lease: unsupported wire type ${wireType} in leasepb.Lease`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.b.byteLength) throw new Error('lease: truncated leasepb.Lease');
    this.pos += n;
  }
}

function toInt64(u: bigint): bigint {
  return u >= TWO_POW_63 ? u - 2n ** 64n : u;
}

/** Decodes leasepb.Lease wire bytes; unknown fields are skipped. Throws on malformed input. */
export function decodeLease(bytes: Uint8Array): LeaseRecord {
  const r = new Reader(bytes);
  let id = 0n;
  let ttl = 0;
  let remainingTtl = 0;
  while (!r.done) {
    const tag = Number(r.varint());
    switch (tag) {
      case TAG_ID:
        id = toInt64(r.varint());
        break;
      case TAG_TTL:
        ttl = Number(toInt64(r.varint()));
        break;
      case TAG_REMAINING_TTL:
        remainingTtl = Number(toInt64(r.varint()));
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return { id, ttl, remainingTtl };
}
