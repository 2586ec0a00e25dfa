import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryType, type Entry } from '../api/raftpb/types.js';
import { EntryDataSlab } from './entry-data-slab.js';

function entry(index: number, data: Uint8Array): Entry {
  return { term: 3, index, type: EntryType.EntryNormal, data };
}

test('data viewed in a shared buffer is copied out of it, with the same bytes', () => {
  const shared = Buffer.alloc(8192, 7);
  shared.write('hello', 100);
  const e = entry(5, shared.subarray(100, 105));
  const [copy] = new EntryDataSlab().retainable([e]);
  assert.equal(Buffer.from(copy!.data).toString(), 'hello');
  assert.notEqual(copy!.data.buffer, shared.buffer);
  assert.deepEqual([copy!.term, copy!.index, copy!.type], [3, 5, EntryType.EntryNormal]);
  shared.fill(0);
  assert.equal(Buffer.from(copy!.data).toString(), 'hello');
});

test('entries whose data owns its buffer, or is empty, are kept as they are', () => {
  const own = entry(1, new Uint8Array([1, 2, 3]));
  const empty = entry(2, new Uint8Array(0));
  const out = new EntryDataSlab().retainable([own, empty]);
  assert.equal(out[0], own);
  assert.equal(out[1], empty);
});

test('many copies spanning several slabs and large data keep their bytes', () => {
  const slab = new EntryDataSlab();
  const pool = Buffer.alloc(1 << 20);
  const kept: { data: Uint8Array; fill: number }[] = [];
  for (let i = 0; i < 3000; i++) {
    const size = i % 100 === 0 ? 5000 : 1 + (i % 300);
    const fill = i % 251;
    const view = pool.subarray(0, size).fill(fill);
    kept.push({ data: slab.retainable([entry(i + 1, view)])[0]!.data, fill });
  }
  for (const k of kept) assert.ok(k.data.every((b) => b === k.fill));
});
