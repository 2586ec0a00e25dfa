import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProposalTimeouts } from './proposal-timeouts.js';

test('each ID expires once, in order, after the timeout', async () => {
  let now = 0;
  const expired: bigint[] = [];
  const t = new ProposalTimeouts(100, (id) => expired.push(id), 5, () => now);
  t.add(1n);
  now = 50;
  t.add(2n);
  await sleep(20);
  assert.deepEqual(expired, []);
  now = 100;
  await sleep(20);
  assert.deepEqual(expired, [1n]);
  now = 1000;
  t.add(3n);
  await sleep(20);
  assert.deepEqual(expired, [1n, 2n]);
  now = 1100;
  await sleep(20);
  assert.deepEqual(expired, [1n, 2n, 3n]);
  t.stop();
});
