import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Watcher, type WatcherSink } from './watcher.js';
import { WatcherGroup } from './watcher-group.js';

const sink: WatcherSink = { trySend: () => true, behind: 0, victims: 0 };
const watcher = (id: number, key: string, end: string | null): Watcher => new Watcher(id, key, end, 1, false, false, false, sink);

test('match finds single-key watchers by key and range watchers by interval, and forgets deleted ones', () => {
  const g = new WatcherGroup();
  const single = watcher(0, 'b', null);
  const single2 = watcher(1, 'b', null);
  const range = watcher(2, 'a', 'c');
  const sameRange = watcher(3, 'a', 'c');
  const fromKey = watcher(4, 'b', '');
  for (const w of [single, single2, range, sameRange, fromKey]) g.add(w);
  g.add(single);
  assert.equal(g.size, 5);
  const out: Watcher[] = [];
  const ids = (key: string): number[] => {
    g.match(key, out);
    return out.map((w) => w.id).sort();
  };
  assert.deepEqual(ids('b'), [0, 1, 2, 3, 4]);
  assert.deepEqual(ids('a'), [2, 3]);
  assert.deepEqual(ids('c'), [4]);
  assert.deepEqual(ids('0'), []);
  assert.equal(g.contains('zz'), true);
  assert.equal(g.delete(sameRange), true);
  assert.equal(g.delete(sameRange), false);
  assert.equal(g.delete(single), true);
  assert.equal(g.delete(fromKey), true);
  assert.deepEqual(ids('b'), [1, 2]);
  assert.equal(g.contains('zz'), false);
  g.delete(single2);
  g.delete(range);
  assert.equal(g.size, 0);
  assert.equal(g.contains('b'), false);
});
