import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRand } from '../pkg/rand.js';
import { TtlKeyHeap, type TtlKey } from './ttl-key-heap.js';

interface Key extends TtlKey {
  expireTime: number;
  id: number;
}

function key(id: number, expireTime: number): Key {
  return { id, expireTime, heapIndex: -1 };
}

test('pops in expiry order', () => {
  const h = new TtlKeyHeap<Key>();
  for (const [id, t] of [[1, 50], [2, 10], [3, 40], [4, 20], [5, 30]] as const) h.push(key(id, t));
  const order: number[] = [];
  for (let k = h.pop(); k !== undefined; k = h.pop()) order.push(k.expireTime);
  assert.deepEqual(order, [10, 20, 30, 40, 50]);
  assert.equal(h.length, 0);
  assert.equal(h.top(), undefined);
});

test('remove and update keep the heap ordered (random operations against a model)', () => {
  const rand = seededRand(7);
  const h = new TtlKeyHeap<Key>();
  const live = new Set<Key>();
  for (let step = 0; step < 5000; step++) {
    const op = rand.intn(4);
    const members = [...live];
    if (op === 0 || members.length === 0) {
      const k = key(step, rand.intn(1000));
      h.push(k);
      live.add(k);
    } else if (op === 1) {
      const k = members[rand.intn(members.length)]!;
      h.remove(k);
      live.delete(k);
      assert.equal(k.heapIndex, -1);
    } else if (op === 2) {
      const k = members[rand.intn(members.length)]!;
      k.expireTime = rand.intn(1000);
      h.update(k);
    } else {
      const k = h.pop()!;
      assert.equal(k.expireTime, Math.min(...members.map((m) => m.expireTime)));
      live.delete(k);
    }
    assert.equal(h.length, live.size);
    if (live.size > 0) assert.equal(h.top()!.expireTime, Math.min(...[...live].map((m) => m.expireTime)));
  }
});

test('removing a key not in the heap does nothing', () => {
  const h = new TtlKeyHeap<Key>();
  const a = key(1, 5);
  h.push(a);
  h.remove(key(2, 1));
  h.update(key(3, 1));
  assert.equal(h.length, 1);
  h.clear();
  assert.equal(h.length, 0);
  assert.equal(a.heapIndex, -1);
});
