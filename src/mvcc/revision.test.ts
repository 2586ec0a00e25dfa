import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToRev, isTombstoneKey, mainRevPrefix, revKeyString, revToBytes } from './revision.js';

function cmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

test('revision keys are 17 bytes main _ sub, big-endian, tombstones marked with t', () => {
  const b = revToBytes(0x0102030405, 7);
  assert.deepEqual([...b], [0, 0, 0, 1, 2, 3, 4, 5, 0x5f, 0, 0, 0, 0, 0, 0, 0, 7]);
  const t = revToBytes(3, 1, true);
  assert.equal(t.length, 18);
  assert.equal(t[17], 0x74);
  assert.ok(isTombstoneKey(t));
  assert.ok(!isTombstoneKey(b));
  assert.deepEqual(bytesToRev(t), { main: 3, sub: 1 });
  assert.deepEqual(bytesToRev(revToBytes(2 ** 53 - 1, 2 ** 40)), { main: 2 ** 53 - 1, sub: 2 ** 40 });
});

test('revision keys sort in revision order and under the next main prefix', () => {
  const revs: [number, number][] = [[1, 0], [1, 1], [2, 0], [255, 0], [256, 0], [2 ** 32, 0], [2 ** 32, 5]];
  for (let i = 1; i < revs.length; i++) {
    assert.ok(cmp(revToBytes(...revs[i - 1]!), revToBytes(...revs[i]!)) < 0);
  }
  assert.ok(cmp(revToBytes(5, 9, true), mainRevPrefix(6)) < 0);
  assert.ok(cmp(revToBytes(6, 0), mainRevPrefix(6)) > 0);
});

test('revision key strings are the latin1 strings of the revision keys', () => {
  for (const [main, sub] of [[2, 0], [300, 7], [2 ** 33 + 5, 2 ** 32 + 1]] as [number, number][]) {
    assert.equal(revKeyString(main, sub), Buffer.from(revToBytes(main, sub)).toString('latin1'));
    assert.equal(revKeyString(main, sub, true), Buffer.from(revToBytes(main, sub, true)).toString('latin1'));
  }
});
