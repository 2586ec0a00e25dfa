import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../pkg/rand.js';
import { Backoff } from './backoff.js';

test('backoff doubles up to its cap, with jitter in the upper half of each step, and resets', () => {
  const rand = seededRand(7);
  const b = new Backoff(50, 400, () => rand.float());
  const steps = [50, 100, 200, 400, 400, 400];
  for (const step of steps) {
    const d = b.next();
    assert.ok(d >= step / 2 && d <= step, `${d} not in [${step / 2}, ${step}]`);
  }
  b.reset();
  assert.ok(b.next() <= 50);
});

test('jitter spreads the delays of peers that failed together', () => {
  const r1 = seededRand(1);
  const r2 = seededRand(2);
  const a = new Backoff(100, 1000, () => r1.float());
  const b = new Backoff(100, 1000, () => r2.float());
  const da = [a.next(), a.next(), a.next()];
  const db = [b.next(), b.next(), b.next()];
  assert.notDeepEqual(da, db);
});
