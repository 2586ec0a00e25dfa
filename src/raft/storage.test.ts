import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../api/raftpb/types.js';
import { entrySize } from './entries.js';
import { MemoryStorage } from './storage.js';

function ent(index: number, term: number): Entry {
  return { index, term, type: EntryType.EntryNormal, data: new Uint8Array(0) };
}

// A storage whose snapshot is at index 3 (term 3) holding entries 4 (term 4) and 5 (term 5).
function compactedAt3(): MemoryStorage {
  const ms = new MemoryStorage();
  ms.append([ent(1, 1), ent(2, 2), ent(3, 3), ent(4, 4), ent(5, 5)]);
  assert.equal(ms.compact(3), undefined);
  return ms;
}

test('term is compacted below the snapshot, known from the snapshot index to the last index, unavailable after', () => {
  const ms = compactedAt3();
  assert.equal(ms.term(2), 'compacted');
  assert.equal(ms.term(3), 3);
  assert.equal(ms.term(4), 4);
  assert.equal(ms.term(5), 5);
  assert.equal(ms.term(6), 'unavailable');
});

test('entries returns compacted at or below the snapshot and respects maxSize but returns at least one entry', () => {
  const ms = new MemoryStorage();
  ms.append([ent(1, 1), ent(2, 2), ent(3, 3), ent(4, 4), ent(5, 5), ent(6, 6)]);
  ms.compact(3);
  assert.equal(ms.entries(2, 6, Number.MAX_SAFE_INTEGER), 'compacted');
  assert.equal(ms.entries(3, 4, Number.MAX_SAFE_INTEGER), 'compacted');
  assert.deepEqual(ms.entries(4, 5, Number.MAX_SAFE_INTEGER), [ent(4, 4)]);
  assert.deepEqual(ms.entries(4, 6, Number.MAX_SAFE_INTEGER), [ent(4, 4), ent(5, 5)]);
  assert.deepEqual(ms.entries(4, 7, Number.MAX_SAFE_INTEGER), [ent(4, 4), ent(5, 5), ent(6, 6)]);
  assert.deepEqual(ms.entries(4, 7, 0), [ent(4, 4)]);
  const two = entrySize(ent(4, 4)) + entrySize(ent(5, 5));
  assert.deepEqual(ms.entries(4, 7, two), [ent(4, 4), ent(5, 5)]);
  assert.deepEqual(ms.entries(4, 7, two + entrySize(ent(6, 6)) / 2), [ent(4, 4), ent(5, 5)]);
  assert.throws(() => ms.entries(4, 8, Number.MAX_SAFE_INTEGER), /out of bound/);
});

test('first and last index follow compaction and appends', () => {
  const ms = compactedAt3();
  assert.equal(ms.firstIndex(), 4);
  assert.equal(ms.lastIndex(), 5);
  ms.append([ent(6, 5)]);
  assert.equal(ms.lastIndex(), 6);
  ms.compact(4);
  assert.equal(ms.firstIndex(), 5);
});

test('compact refuses an index already compacted and keeps the term of the new dummy entry', () => {
  const ms = compactedAt3();
  assert.equal(ms.compact(2), 'compacted');
  assert.equal(ms.compact(3), 'compacted');
  assert.equal(ms.compact(4), undefined);
  assert.equal(ms.term(4), 4);
  assert.equal(ms.term(3), 'compacted');
  assert.throws(() => ms.compact(6), /out of bound/);
});

test('createSnapshot records index, term, conf state and data, and refuses older snapshots', () => {
  const ms = compactedAt3();
  const cs = { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const data = new Uint8Array([100, 97, 116, 97]);
  const snap = ms.createSnapshot(4, cs, data);
  assert.notEqual(typeof snap, 'string');
  assert.deepEqual(snap, { data, metadata: { index: 4, term: 4, confState: cs } });
  assert.equal(ms.createSnapshot(4, cs, data), 'snapshot-out-of-date');
  assert.deepEqual(ms.snapshot(), snap);
});

test('append ignores compacted entries, truncates a conflicting tail and rejects a gap', () => {
  let ms = compactedAt3();
  ms.append([ent(3, 3), ent(4, 4), ent(5, 5)]);
  assert.deepEqual(ms.entries(4, 6, Infinity), [ent(4, 4), ent(5, 5)]);

  ms = compactedAt3();
  ms.append([ent(3, 3), ent(4, 6), ent(5, 6)]);
  assert.deepEqual(ms.entries(4, 6, Infinity), [ent(4, 6), ent(5, 6)]);

  ms = compactedAt3();
  ms.append([ent(3, 3), ent(4, 4), ent(5, 5), ent(6, 5)]);
  assert.deepEqual(ms.entries(4, 7, Infinity), [ent(4, 4), ent(5, 5), ent(6, 5)]);

  // Truncate from index 4 and append.
  ms = compactedAt3();
  ms.append([ent(4, 5)]);
  assert.deepEqual(ms.entries(4, 5, Infinity), [ent(4, 5)]);
  assert.equal(ms.lastIndex(), 4);

  // Plain append.
  ms = compactedAt3();
  ms.append([ent(6, 5)]);
  assert.equal(ms.lastIndex(), 6);

  // Entries entirely below the first index are ignored.
  ms = compactedAt3();
  ms.append([ent(1, 1), ent(2, 2)]);
  assert.equal(ms.lastIndex(), 5);

  ms = compactedAt3();
  assert.throws(() => ms.append([ent(7, 5)]), /missing log entry/);
});

test('applySnapshot replaces the log and refuses a snapshot that is not newer', () => {
  const ms = new MemoryStorage();
  const cs = { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const data = new Uint8Array([1]);
  assert.equal(ms.applySnapshot({ data, metadata: { index: 4, term: 4, confState: cs } }), undefined);
  assert.equal(ms.firstIndex(), 5);
  assert.equal(ms.lastIndex(), 4);
  assert.equal(ms.term(4), 4);
  assert.deepEqual(ms.initialState().confState, cs);
  assert.equal(ms.applySnapshot({ data, metadata: { index: 3, term: 3, confState: cs } }), 'snapshot-out-of-date');
});

test('initialState reports the hard state set and the conf state given at construction', () => {
  const cs = { voters: [1n], learners: [2n], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const ms = new MemoryStorage(cs);
  ms.setHardState({ term: 2, vote: 1n, commit: 0 });
  assert.deepEqual(ms.initialState(), { hardState: { term: 2, vote: 1n, commit: 0 }, confState: cs });
  assert.equal(ms.entries(1, 1, 0), 'unavailable');
});
