import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, emptyConfState, type Entry } from '../../src/api/raftpb/types.js';
import { DurableStore } from './durable-store.js';
import { EMPTY_HASH, SafetyChecker, SafetyViolation, chainHash } from './safety-checker.js';

function ent(term: number, index: number, data = ''): Entry {
  return { term, index, type: EntryType.EntryNormal, data: new TextEncoder().encode(data) };
}

test('two leaders in one term break election safety', () => {
  const c = new SafetyChecker();
  c.onLeader(1n, 3);
  c.onLeader(1n, 3);
  c.onLeader(2n, 4);
  assert.throws(() => c.onLeader(2n, 3), SafetyViolation);
});

test('equal index and term with a different entry or prefix breaks log matching', () => {
  const c = new SafetyChecker();
  c.onPersist(1n, [ent(1, 2, 'a'), ent(2, 3, 'b')], 1);
  c.onPersist(2n, [ent(1, 2, 'a')], 1);
  assert.throws(() => c.onPersist(3n, [ent(2, 3, 'other')], 1), SafetyViolation);
  assert.throws(() => c.onPersist(3n, [ent(2, 3, 'b')], 2), SafetyViolation);
});

test('applying a different entry at an index breaks state machine safety', () => {
  const c = new SafetyChecker();
  const a = ent(1, 1, 'a');
  c.onApply(1n, a, chainHash(EMPTY_HASH, a), 1);
  c.onApply(2n, ent(1, 1, 'a'), chainHash(EMPTY_HASH, a), 1);
  assert.throws(() => c.onApply(3n, ent(2, 1, 'z'), chainHash(EMPTY_HASH, ent(2, 1, 'z')), 2), SafetyViolation);
});

test('a leader lacking an entry committed in an earlier term breaks leader completeness', () => {
  const c = new SafetyChecker();
  const e = ent(1, 1, 'x');
  c.onApply(1n, e, chainHash(EMPTY_HASH, e), 1);
  const good = new DurableStore();
  good.append([e, ent(2, 2)]);
  c.checkLeaderCompleteness(2n, 2, good);
  const bad = new DurableStore();
  bad.append([ent(2, 1)]);
  assert.throws(() => c.checkLeaderCompleteness(3n, 3, bad), SafetyViolation);
});

test('conf states, restarts and reads are checked', () => {
  const c = new SafetyChecker();
  c.onConfApplied(1n, 5, { ...emptyConfState(), voters: [1n, 2n] });
  assert.throws(() => c.onConfApplied(2n, 5, { ...emptyConfState(), voters: [1n] }), SafetyViolation);
  const disk = new DurableStore();
  disk.hardState = { term: 1, vote: 1n, commit: 4 };
  c.onRestart(1n, disk, 4);
  assert.throws(() => c.onRestart(1n, disk, 5), SafetyViolation);
  c.onReadState(1n, 7, 7);
  assert.throws(() => c.onReadState(1n, 6, 7), SafetyViolation);
});
