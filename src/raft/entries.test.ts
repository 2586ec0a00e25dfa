import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../api/raftpb/types.js';
import { entrySize, limitSize, payloadsSize } from './entries.js';

function ent(index: number, term: number, data = new Uint8Array(0), type = EntryType.EntryNormal): Entry {
  return { index, term, type, data };
}

test('entrySize matches the protobuf encoding of an Entry', () => {
  // type, term and index tags and one-byte varints; no data field.
  assert.equal(entrySize(ent(1, 1)), 6);
  // data "foo": tag + length + 3 bytes.
  assert.equal(entrySize(ent(1, 1, new Uint8Array([102, 111, 111]))), 11);
  // Two-byte varint for index 128 and term 300.
  assert.equal(entrySize(ent(128, 300)), 8);
  // A 200-byte payload needs a two-byte length.
  assert.equal(entrySize(ent(1, 1, new Uint8Array(200))), 6 + 1 + 2 + 200);
  // Large indexes take more varint bytes.
  assert.equal(entrySize(ent(2 ** 35, 1)), 3 + 1 + 1 + 6);
});

test('limitSize keeps at least one entry and stops before exceeding the limit', () => {
  const ents = [ent(1, 1), ent(2, 1), ent(3, 1)];
  assert.equal(limitSize(ents, Number.MAX_SAFE_INTEGER), ents);
  assert.deepEqual(limitSize(ents, 0), [ents[0]]);
  assert.deepEqual(limitSize(ents, 12), [ents[0], ents[1]]);
  assert.deepEqual(limitSize(ents, 13), [ents[0], ents[1]]);
  assert.deepEqual(limitSize(ents, 18), ents);
  assert.deepEqual(limitSize([], 0), []);
});

test('payloadsSize counts only the data bytes', () => {
  assert.equal(payloadsSize([ent(1, 1, new Uint8Array(10)), ent(2, 1), ent(3, 1, new Uint8Array(5))]), 15);
});
