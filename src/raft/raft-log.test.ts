import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyConfState, type Entry } from '../api/raftpb/types.js';
import { NO_LIMIT } from './config.js';
import { entrySize } from './entries.js';
import { silentLogger } from './logger.js';
import { RaftLog } from './raft-log.js';
import { MemoryStorage } from './storage.js';
import { entriesWithTerms } from './test-network.js';

function newLog(storage = new MemoryStorage(), maxNextEntsSize = NO_LIMIT): RaftLog {
  return new RaftLog(storage, silentLogger, false, maxNextEntsSize);
}

function logWith(terms: number[]): RaftLog {
  const l = newLog();
  l.append(entriesWithTerms(terms));
  return l;
}

const terms = (ents: Entry[]): number[] => ents.map((e) => e.term);

test('findConflict returns the first index missing or with a different term, 0 when all present', () => {
  const l = logWith([1, 2, 3]);
  assert.equal(l.findConflict([]), 0);
  assert.equal(l.findConflict(entriesWithTerms([1, 2, 3])), 0);
  assert.equal(l.findConflict(entriesWithTerms([2, 3], 2)), 0);
  assert.equal(l.findConflict(entriesWithTerms([1, 2, 3, 4, 4])), 4);
  assert.equal(l.findConflict(entriesWithTerms([3, 4, 4], 3)), 4);
  assert.equal(l.findConflict(entriesWithTerms([4, 4])), 1);
  assert.equal(l.findConflict(entriesWithTerms([1, 4, 4, 4])), 2);
});

test('a log is up-to-date if its last term is later, or equal with an index at least as long (§5.4.1)', () => {
  const l = logWith([1, 2, 3]);
  assert.equal(l.isUpToDate(2, 4), true); // later term wins whatever the length
  assert.equal(l.isUpToDate(3, 2), false); // earlier term loses
  assert.equal(l.isUpToDate(2, 3), false); // same term, shorter
  assert.equal(l.isUpToDate(3, 3), true);
  assert.equal(l.isUpToDate(4, 3), true);
});

test('append truncates at the first new index and refuses to touch committed entries', () => {
  const l = logWith([1, 2]);
  assert.equal(l.append(entriesWithTerms([3], 3)), 3);
  assert.deepEqual(terms(l.allEntries()), [1, 2, 3]);
  assert.equal(l.append(entriesWithTerms([4, 4], 2)), 3);
  assert.deepEqual(terms(l.allEntries()), [1, 4, 4]);
  l.commitTo(2);
  assert.throws(() => l.append(entriesWithTerms([5], 2)), /out of range/);
});

test('maybeAppend accepts only after a matching entry, truncates conflicts and commits to min(leaderCommit, lastNew) (§5.3)', () => {
  const base = [1, 2, 3];
  // Mismatched prev term: rejected, log untouched.
  let l = logWith(base);
  assert.equal(l.maybeAppend(3, 2, 3, entriesWithTerms([4], 4)), undefined);
  assert.equal(l.committed, 0);
  // Prev index beyond our log: rejected.
  assert.equal(l.maybeAppend(4, 3, 3, entriesWithTerms([4], 5)), undefined);
  // Match, new entries, commit limited by the last new index.
  l = logWith(base);
  assert.equal(l.maybeAppend(3, 3, 10, entriesWithTerms([4, 4], 4)), 5);
  assert.equal(l.committed, 5);
  // Match, commit limited by the leader's commit.
  l = logWith(base);
  assert.equal(l.maybeAppend(3, 3, 4, entriesWithTerms([4, 4], 4)), 5);
  assert.equal(l.committed, 4);
  // Conflict in the tail: replaced.
  l = logWith(base);
  assert.equal(l.maybeAppend(1, 1, 0, entriesWithTerms([4], 2)), 2);
  assert.deepEqual(terms(l.allEntries()), [1, 4]);
  // Entries already present: nothing changes, lastNew is still reported.
  l = logWith(base);
  assert.equal(l.maybeAppend(1, 1, 2, entriesWithTerms([2], 2)), 2);
  assert.deepEqual(terms(l.allEntries()), [1, 2, 3]);
  assert.equal(l.committed, 2);
  // A conflict with a committed entry is a broken invariant.
  l = logWith(base);
  l.commitTo(3);
  assert.throws(() => l.maybeAppend(1, 1, 3, entriesWithTerms([4], 2)), /conflict with committed entry/);
});

test('commitTo never decreases and refuses indexes beyond the log', () => {
  const l = logWith([1, 2, 3]);
  l.commitTo(2);
  l.commitTo(1);
  assert.equal(l.committed, 2);
  assert.throws(() => l.commitTo(4), /out of range/);
});

test('maybeCommit only commits an entry of the given term (§5.4.2)', () => {
  const l = logWith([1, 2, 2]);
  assert.equal(l.maybeCommit(3, 3), false);
  assert.equal(l.maybeCommit(3, 2), true);
  assert.equal(l.committed, 3);
  assert.equal(l.maybeCommit(2, 2), false);
});

test('findConflictByTerm finds the last index whose term is at most the given term', () => {
  const l = logWith([1, 3, 3, 3, 5, 5]);
  assert.equal(l.findConflictByTerm(6, 4), 4);
  assert.equal(l.findConflictByTerm(6, 5), 6);
  assert.equal(l.findConflictByTerm(6, 2), 1);
  assert.equal(l.findConflictByTerm(6, 0), 0);
  assert.equal(l.findConflictByTerm(9, 5), 9);
});

test('the log spans storage and unstable entries; stableTo moves them to storage', () => {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms([1, 1]));
  const l = newLog(storage);
  assert.equal(l.firstIndex(), 1);
  assert.equal(l.lastIndex(), 2);
  l.append(entriesWithTerms([2, 2], 3));
  assert.deepEqual(l.unstableEntries().map((e) => e.index), [3, 4]);
  assert.deepEqual(terms(l.allEntries()), [1, 1, 2, 2]);
  storage.append(l.unstableEntries());
  l.stableTo(4, 2);
  assert.deepEqual(l.unstableEntries(), []);
  assert.equal(l.lastIndex(), 4);
  assert.equal(l.lastTerm(), 2);
});

test('term is 0 outside the log and compacted below the first index', () => {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms([1, 2, 3, 4, 5]));
  storage.compact(3);
  const l = newLog(storage);
  assert.equal(l.term(1), 0); // before the dummy entry
  assert.equal(l.term(3), 3); // the dummy (snapshot) entry
  assert.equal(l.term(5), 5);
  assert.equal(l.term(6), 0);
  assert.equal(l.slice(2, 4, NO_LIMIT), 'compacted');
  assert.deepEqual(terms(l.slice(4, 6, NO_LIMIT) as Entry[]), [4, 5]);
  assert.throws(() => l.slice(4, 7, NO_LIMIT), /out of bound/);
});

test('nextEnts hands out committed unapplied entries bounded by maxNextEntsSize', () => {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms([1, 1, 1, 1]));
  const size = entrySize(entriesWithTerms([1])[0]!);
  const l = newLog(storage, 2 * size);
  assert.equal(l.hasNextEnts(), false);
  l.commitTo(4);
  assert.equal(l.hasNextEnts(), true);
  assert.deepEqual(l.nextEnts().map((e) => e.index), [1, 2]);
  l.appliedTo(2);
  assert.deepEqual(l.nextEnts().map((e) => e.index), [3, 4]);
  l.appliedTo(4);
  assert.equal(l.hasNextEnts(), false);
  assert.deepEqual(l.nextEnts(), []);
  assert.throws(() => l.appliedTo(5), /out of range/);
});

test('slice combines storage and unstable entries and stops at the size limit', () => {
  const storage = new MemoryStorage();
  storage.append(entriesWithTerms([1, 1, 1]));
  const l = newLog(storage);
  l.append(entriesWithTerms([2, 2, 2], 4));
  const size = entrySize(entriesWithTerms([1])[0]!);
  assert.deepEqual((l.slice(2, 6, NO_LIMIT) as Entry[]).map((e) => e.index), [2, 3, 4, 5]);
  assert.deepEqual((l.slice(2, 6, 2 * size) as Entry[]).map((e) => e.index), [2, 3]);
  assert.deepEqual((l.slice(3, 6, 2 * size) as Entry[]).map((e) => e.index), [3, 4]);
  assert.deepEqual((l.slice(4, 7, 0) as Entry[]).map((e) => e.index), [4]);
});

test('restore resets the log to a snapshot, committed at its index', () => {
  const l = logWith([1, 1, 1]);
  l.restore({ data: new Uint8Array(0), metadata: { index: 10, term: 4, confState: emptyConfState() } });
  assert.equal(l.committed, 10);
  assert.equal(l.firstIndex(), 11);
  assert.equal(l.lastIndex(), 10);
  assert.equal(l.lastTerm(), 4);
  assert.equal(l.hasPendingSnapshot(), true);
  l.stableSnapTo(10);
  assert.equal(l.hasPendingSnapshot(), false);
});

test('a new log starts committed and applied at the storage snapshot', () => {
  const storage = new MemoryStorage();
  storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 5, term: 2, confState: emptyConfState() } });
  const l = newLog(storage);
  assert.equal(l.committed, 5);
  assert.equal(l.applied, 5);
  assert.equal(l.firstIndex(), 6);
  assert.equal(l.lastTerm(), 2);
});
