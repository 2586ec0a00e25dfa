import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexEntry } from './key-index.js';
import { TreeIndex } from './tree-index.js';

function fill(): TreeIndex {
  const idx = new TreeIndex();
  idx.insert('a', 2, 0);
  idx.insert('b', 3, 0);
  idx.put('a', 4, 0);
  idx.insert('c', 4, 1);
  assert.ok(idx.tombstone('b', 5, 0));
  idx.put('b', 6, 0);
  return idx;
}

test('revisions of a range at a revision, with limit and total', () => {
  const idx = fill();
  assert.deepEqual(idx.revisions('a', '', 6), { revs: [4, 0, 6, 0, 4, 1], total: 3 });
  assert.deepEqual(idx.revisions('a', '', 5), { revs: [4, 0, 4, 1], total: 2 }, 'b is deleted at 5');
  assert.deepEqual(idx.revisions('a', 'c', 3), { revs: [2, 0, 3, 0], total: 2 });
  assert.deepEqual(idx.revisions('a', '', 6, 1), { revs: [4, 0], total: 3 });
  assert.deepEqual(idx.revisions('a', '', 6, -1), { revs: [], total: 3 });
  assert.deepEqual(idx.revisions('b', null, 6), { revs: [6, 0], total: 1 });
  assert.deepEqual(idx.revisions('zz', null, 6), { revs: [], total: 0 });
  assert.equal(idx.tombstone('zz', 7, 0), false);
});

test('rangeSince orders every revision from a point by revision', () => {
  const idx = fill();
  assert.deepEqual(
    idx.rangeSince('a', '', 4).map((r) => `${r.main}.${r.sub}`),
    ['4.0', '4.1', '5.0', '6.0'],
  );
});

test('compact drops keys left without history and keep agrees with compact', () => {
  const idx = fill();
  assert.ok(idx.tombstone('c', 7, 0));
  const keep = idx.keep(7);
  const available = idx.compact(7);
  assert.deepEqual(available.values(), keep.values());
  assert.deepEqual(available.values(), [{ main: 4, sub: 0 }, { main: 6, sub: 0 }]);
  assert.equal(idx.size, 2, 'c ended in a tombstone at or below 7: gone');
  const e = new IndexEntry();
  assert.ok(idx.get('a', 7, e) && e.modMain === 4 && e.ver === 2);
  assert.equal(idx.get('c', 7, e), false);
});
