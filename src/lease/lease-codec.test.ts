import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLease, encodeLease, leaseIdOfKey, leaseKey } from './lease-codec.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('encodes leasepb.Lease fields 1..3 as varints and leaves zero fields out', () => {
  assert.equal(hex(encodeLease({ id: 1n, ttl: 10, remainingTtl: 0 })), '0801100a');
  assert.equal(hex(encodeLease({ id: 0x1234n, ttl: 300, remainingTtl: 42 })), '08b42410ac02182a');
  assert.equal(hex(encodeLease({ id: 0n, ttl: 0, remainingTtl: 0 })), '');
});

test('round-trips large TTLs and negative IDs (10-byte two\'s complement varint)', () => {
  for (const r of [
    { id: 7587862072067250000n, ttl: 9_000_000_000, remainingTtl: 8_999_999_999 },
    { id: -1n, ttl: 5, remainingTtl: 0 },
    { id: -(2n ** 63n), ttl: 2, remainingTtl: 1 },
    { id: 2n ** 63n - 1n, ttl: 1, remainingTtl: 0 },
  ]) {
    assert.deepEqual(decodeLease(encodeLease(r)), r);
  }
  assert.equal(encodeLease({ id: -1n, ttl: 0, remainingTtl: 0 }).length, 11);
});

test('decoding skips unknown fields of every wire type', () => {
  // field 4 varint, field 5 fixed64, field 6 bytes, field 7 fixed32, then TTL = 3.
  const bytes = Uint8Array.from([0x08, 0x02, 0x20, 0x05, 0x29, 1, 2, 3, 4, 5, 6, 7, 8, 0x32, 2, 9, 9, 0x3d, 1, 2, 3, 4, 0x10, 0x03]);
  assert.deepEqual(decodeLease(bytes), { id: 2n, ttl: 3, remainingTtl: 0 });
});

test('decoding a truncated record throws', () => {
  assert.throws(() => decodeLease(Uint8Array.from([0x08, 0x80])), /truncated/);
  assert.throws(() => decodeLease(Uint8Array.from([0x32, 5, 1])), /truncated/);
});

test('bucket keys are the ID\'s 8 big-endian bytes, negative IDs as two\'s complement', () => {
  assert.equal(hex(leaseKey(0x0102030405060708n)), '0102030405060708');
  assert.equal(hex(leaseKey(-2n)), 'fffffffffffffffe');
  assert.equal(leaseIdOfKey(leaseKey(-2n)), -2n);
  assert.equal(leaseIdOfKey(leaseKey(0x7fffffffffffffffn)), 0x7fffffffffffffffn);
});
