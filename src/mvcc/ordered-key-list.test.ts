import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRand } from '../pkg/rand.js';
import { OrderedKeyList } from './ordered-key-list.js';

interface Item {
  readonly key: string;
  n: number;
}

function keys(list: OrderedKeyList<Item>, start = '', end?: string): string[] {
  const out: string[] = [];
  list.ascend(start, end, (i) => {
    out.push(i.key);
  });
  return out;
}

test('ordered key list matches a sorted model under random inserts, deletes and scans', () => {
  const rand = seededRand(7);
  const list = new OrderedKeyList<Item>();
  const model = new Map<string, number>();
  for (let op = 0; op < 20000; op++) {
    const key = `k${rand.intn(3000).toString(36)}`;
    if (rand.intn(3) === 0) {
      assert.equal(list.delete(key), model.delete(key));
    } else {
      // A get just before the set exercises the position hint the set reuses.
      if (rand.intn(2) === 0) assert.equal(list.get(key)?.n, model.get(key));
      list.set({ key, n: op });
      model.set(key, op);
    }
    if (op % 1000 === 0) {
      const sorted = [...model.keys()].sort();
      assert.deepEqual(keys(list), sorted);
      const lo = `k${rand.intn(3000).toString(36)}`;
      const hi = `k${rand.intn(3000).toString(36)}`;
      assert.deepEqual(keys(list, lo, hi), sorted.filter((k) => k >= lo && k < hi));
    }
  }
  assert.equal(list.size, model.size);
  for (const [k, n] of model) assert.equal(list.get(k)?.n, n);
  assert.equal(list.get('absent'), undefined);
});

test('ordered key list orders latin1 keys by byte value and stops a scan early', () => {
  const list = new OrderedKeyList<Item>();
  for (const key of ['\u00ff', 'a', '\u0000', 'ab', 'b', '\u0080']) list.set({ key, n: 0 });
  assert.deepEqual(keys(list), ['\u0000', 'a', 'ab', 'b', '\u0080', '\u00ff']);
  const seen: string[] = [];
  list.ascend('a', undefined, (i) => {
    seen.push(i.key);
    return seen.length < 2;
  });
  assert.deepEqual(seen, ['a', 'ab']);
});

test('ordered key list load and removeWhere keep order and size', () => {
  const list = new OrderedKeyList<Item>();
  const items = Array.from({ length: 5000 }, (_, i) => ({ key: `k${String(i).padStart(5, '0')}`, n: i }));
  list.load(items);
  assert.equal(list.size, 5000);
  list.removeWhere((i) => i.n % 3 !== 0);
  assert.equal(list.size, 1667);
  assert.deepEqual(keys(list), items.filter((i) => i.n % 3 === 0).map((i) => i.key));
  list.set({ key: 'k00001', n: 1 });
  assert.equal(list.get('k00001')?.n, 1);
  assert.equal(list.size, 1668);
});
