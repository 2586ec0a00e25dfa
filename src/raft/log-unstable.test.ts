import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyConfState, type Snapshot } from '../api/raftpb/types.js';
import { Unstable } from './log-unstable.js';
import { silentLogger } from './logger.js';
import { entriesWithTerms } from './test-network.js';

function snap(index: number, term: number): Snapshot {
  return { data: new Uint8Array(0), metadata: { index, term, confState: emptyConfState() } };
}

function unstable(offset: number, terms: number[], s?: Snapshot): Unstable {
  const u = new Unstable(offset, silentLogger, false);
  u.entries = entriesWithTerms(terms, offset);
  u.snapshot = s;
  return u;
}

test('first index is known only from a pending snapshot', () => {
  assert.equal(unstable(5, [1]).maybeFirstIndex(), undefined);
  assert.equal(unstable(5, [1], snap(4, 1)).maybeFirstIndex(), 5);
  assert.equal(unstable(5, [], snap(4, 1)).maybeFirstIndex(), 5);
});

test('last index comes from the entries, else the snapshot', () => {
  assert.equal(unstable(5, [1]).maybeLastIndex(), 5);
  assert.equal(unstable(5, [1], snap(4, 1)).maybeLastIndex(), 5);
  assert.equal(unstable(5, [], snap(4, 1)).maybeLastIndex(), 4);
  assert.equal(unstable(0, []).maybeLastIndex(), undefined);
});

test('term is known for unstable entries and the snapshot index only', () => {
  assert.equal(unstable(5, [1]).maybeTerm(5), 1);
  assert.equal(unstable(5, [1]).maybeTerm(6), undefined);
  assert.equal(unstable(5, [1]).maybeTerm(4), undefined);
  assert.equal(unstable(5, [1], snap(4, 1)).maybeTerm(4), 1);
  assert.equal(unstable(5, [1], snap(4, 1)).maybeTerm(3), undefined);
  assert.equal(unstable(5, [], snap(4, 1)).maybeTerm(5), undefined);
});

test('restore replaces everything with the snapshot', () => {
  const u = unstable(5, [1], snap(4, 1));
  u.restore(snap(6, 2));
  assert.equal(u.offset, 7);
  assert.equal(u.entries.length, 0);
  assert.equal(u.snapshot?.metadata.index, 6);
});

test('stableTo drops persisted entries only when the term still matches', () => {
  let u = unstable(5, [1]);
  u.stableTo(5, 1);
  assert.equal(u.offset, 6);
  assert.equal(u.entries.length, 0);

  u = unstable(5, [1, 1]);
  u.stableTo(5, 1);
  assert.equal(u.offset, 6);
  assert.equal(u.entries.length, 1);

  // The entry at 5 was replaced by a newer leader meanwhile: still unstable.
  u = unstable(5, [2]);
  u.stableTo(5, 1);
  assert.equal(u.offset, 5);
  assert.equal(u.entries.length, 1);

  // Below the offset: only matches the snapshot, nothing to drop.
  u = unstable(5, [1], snap(4, 1));
  u.stableTo(4, 1);
  assert.equal(u.offset, 5);
  assert.equal(u.entries.length, 1);

  u = unstable(5, [1]);
  u.stableTo(4, 1);
  assert.equal(u.offset, 5);
});

test('truncateAndAppend appends, replaces or truncates depending on the first new index', () => {
  let u = unstable(5, [1]);
  u.truncateAndAppend(entriesWithTerms([1, 1], 6));
  assert.equal(u.offset, 5);
  assert.deepEqual(u.entries.map((e) => e.term), [1, 1, 1]);

  u = unstable(5, [1]);
  u.truncateAndAppend(entriesWithTerms([2, 2], 5));
  assert.equal(u.offset, 5);
  assert.deepEqual(u.entries.map((e) => e.term), [2, 2]);

  u = unstable(5, [1]);
  u.truncateAndAppend(entriesWithTerms([2, 2, 2], 4));
  assert.equal(u.offset, 4);
  assert.deepEqual(u.entries.map((e) => e.term), [2, 2, 2]);

  u = unstable(5, [1, 1, 1]);
  u.truncateAndAppend(entriesWithTerms([2], 6));
  assert.equal(u.offset, 5);
  assert.deepEqual(u.entries.map((e) => [e.index, e.term]), [[5, 1], [6, 2]]);
});

test('slice refuses bounds outside the unstable entries', () => {
  const u = unstable(5, [1, 1]);
  assert.deepEqual(u.slice(5, 7).map((e) => e.index), [5, 6]);
  assert.throws(() => u.slice(4, 6), /out of bound/);
  assert.throws(() => u.slice(5, 8), /out of bound/);
  assert.throws(() => u.slice(6, 5), /invalid unstable.slice/);
});
