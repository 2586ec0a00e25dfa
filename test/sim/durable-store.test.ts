import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../../src/api/raftpb/types.js';
import { DurableLogError, DurableStore } from './durable-store.js';

function ent(term: number, index: number, data = ''): Entry {
  return { term, index, type: EntryType.EntryNormal, data: new TextEncoder().encode(data) };
}

test('append reports the first stored entry replaced by a different one', () => {
  const d = new DurableStore();
  assert.equal(d.append([ent(1, 1), ent(1, 2), ent(1, 3)]), 0);
  // Rewriting the same entries is not a conflict.
  assert.equal(d.append([ent(1, 2), ent(1, 3)]), 0);
  assert.equal(d.append([ent(1, 2), ent(2, 3), ent(2, 4)]), 3);
  assert.equal(d.lastIndex(), 4);
  assert.equal(d.term(3), 2);
});

test('append refuses a gap and a term going back', () => {
  const d = new DurableStore();
  d.append([ent(2, 1)]);
  assert.throws(() => d.append([ent(2, 3)]), DurableLogError);
  assert.throws(() => d.append([ent(2, 2), ent(1, 3)]), DurableLogError);
});

test('compaction keeps the snapshot and the entries after the compaction point', () => {
  const d = new DurableStore();
  d.append([ent(1, 1), ent(1, 2), ent(2, 3), ent(2, 4)]);
  d.saveSnapshot({ data: new Uint8Array(0), metadata: { index: 3, term: 2, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
  d.compact(2);
  assert.equal(d.firstIndex(), 3);
  assert.equal(d.term(2), 1);
  assert.equal(d.entry(2), undefined);
  const ms = d.load();
  // The restarted MemoryStorage starts at the snapshot and holds what follows it.
  assert.equal(ms.firstIndex(), 4);
  assert.equal(ms.lastIndex(), 4);
  assert.equal(ms.term(4), 2);
});
