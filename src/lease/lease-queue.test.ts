import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRand } from '../pkg/rand.js';
import { LeaseQueue } from './lease-queue.js';

function drain(q: LeaseQueue): bigint[] {
  const out: bigint[] = [];
  for (let id = q.poll(); id !== undefined; id = q.poll()) out.push(id);
  return out;
}

test('polls leases in time order, ties by ID, one entry per lease', () => {
  const q = new LeaseQueue();
  q.registerOrUpdate(5n, 300);
  q.registerOrUpdate(3n, 100);
  q.registerOrUpdate(9n, 100);
  q.registerOrUpdate(1n, 200);
  q.registerOrUpdate(3n, 400);
  assert.equal(q.length, 4);
  assert.equal(q.peekId(), 9n);
  assert.equal(q.peekTime(), 100);
  assert.deepEqual(drain(q), [9n, 1n, 5n, 3n]);
  assert.equal(q.poll(), undefined);
});

test('moving an entry earlier or later and removing one keep the order', () => {
  const q = new LeaseQueue();
  for (let i = 1; i <= 6; i++) q.registerOrUpdate(BigInt(i), i * 10);
  q.registerOrUpdate(6n, 5);
  q.registerOrUpdate(1n, 65);
  assert.equal(q.remove(3n), true);
  assert.equal(q.remove(3n), false);
  assert.equal(q.timeOf(1n), 65);
  assert.equal(q.has(3n), false);
  assert.deepEqual(drain(q), [6n, 2n, 4n, 5n, 1n]);
});

test('matches a sorted model under seeded random operations', () => {
  const rand = seededRand(7);
  const q = new LeaseQueue();
  const model = new Map<bigint, number>();
  for (let step = 0; step < 5000; step++) {
    const id = BigInt(rand.intn(200));
    const op = rand.intn(10);
    if (op < 6) {
      const t = rand.intn(1000);
      q.registerOrUpdate(id, t);
      model.set(id, t);
    } else if (op < 8) {
      assert.equal(q.remove(id), model.delete(id));
    } else if (model.size > 0) {
      const want = [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]!;
      assert.equal(q.poll(), want[0]);
      model.delete(want[0]);
    }
    assert.equal(q.length, model.size);
  }
  const rest = [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
  assert.deepEqual(drain(q), rest);
});
