import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Wait } from './wait.js';

test('a registered ID resolves with the first trigger; later triggers and unknown IDs are no-ops', async () => {
  const w = new Wait<string>();
  const p = w.register(7n);
  assert.equal(w.isRegistered(7n), true);
  assert.equal(w.trigger(7n, 'applied'), true);
  assert.equal(w.trigger(7n, 'again'), false);
  assert.equal(w.trigger(8n, 'nobody'), false);
  assert.equal(await p, 'applied');
  assert.equal(w.isRegistered(7n), false);
  assert.equal(w.size, 0);
});

test('registering an ID twice throws; triggerAll resolves every waiter', async () => {
  const w = new Wait<number>();
  const a = w.register(1n);
  const b = w.register(2n);
  assert.throws(() => w.register(1n), /duplicate id 1/);
  w.triggerAll(-1);
  assert.deepEqual(await Promise.all([a, b]), [-1, -1]);
  assert.equal(w.size, 0);
});
