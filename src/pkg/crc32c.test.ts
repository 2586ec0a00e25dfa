import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, update } from './crc32c.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A plain bit-at-a-time CRC-32C, the definition the fast tables must agree with. */
function slowCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('crc32c matches the standard check value for "123456789"', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
});

test('crc32c matches the RFC 3720 (iSCSI) test vectors', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('crc32c of nothing is zero', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(update(0x12345678, new Uint8Array(0)), 0x12345678);
});

test('update chains: checksumming in pieces equals checksumming the whole', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 63, 500, 999, 1000]) {
    assert.equal(update(update(0, data.subarray(0, cut)), data.subarray(cut)), whole, `cut at ${cut}`);
  }
});

test('update honours start and end bounds', () => {
  const data = ascii('xx123456789yy');
  assert.equal(update(0, data, 2, 11), 0xe3069283);
});

test('slicing-by-8 agrees with the bitwise definition for every length up to 64 and odd offsets', () => {
  const data = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff);
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len <= 64; len++) {
      const piece = data.subarray(start, start + len);
      assert.equal(crc32c(piece), slowCrc32c(piece), `start ${start} len ${len}`);
    }
  }
});
