import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdGenerator } from './id-generator.js';

test('IDs carry the low 16 bits of the member ID, then start time and a counter, as etcd idutil', () => {
  const g = new IdGenerator(0x1234_5678_9abc_def0n, 0x1122334455);
  const first = g.next();
  assert.equal(first >> 48n, 0xdef0n);
  // Time in ms (40 bits) shifted past the 8-bit counter, plus one.
  assert.equal(first & 0xffff_ffff_ffffn, (0x1122334455n << 8n) + 1n);
  assert.equal(g.next(), first + 1n);
});

test('IDs never repeat and the 48-bit suffix wraps without touching the prefix', () => {
  const g = new IdGenerator(0xffffn, 2 ** 40 - 1);
  const seen = new Set<bigint>();
  for (let i = 0; i < 1000; i++) seen.add(g.next());
  assert.equal(seen.size, 1000);
  for (const id of seen) assert.equal(id >> 48n, 0xffffn);
  assert.ok([...seen].some((id) => (id & 0xffff_ffff_ffffn) < 1000n), 'the suffix wrapped around');
});
