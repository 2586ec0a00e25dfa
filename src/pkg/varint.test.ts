import { test } from 'node:test';
import assert from 'node:assert/strict';
import { varintLen } from './varint.js';

test('varint length matches the encoding at every 7-bit boundary up to 2^53', () => {
  for (let bits = 1; bits <= 53; bits++) {
    const below = 2 ** bits - 1;
    const expected = Math.ceil(bits / 7);
    assert.equal(varintLen(below), expected, `2^${bits}-1`);
    if (bits % 7 === 0 && bits < 53) assert.equal(varintLen(2 ** bits), expected + 1, `2^${bits}`);
  }
  assert.equal(varintLen(0), 1);
  assert.equal(varintLen(Number.MAX_SAFE_INTEGER), 8);
});
