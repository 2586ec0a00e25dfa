import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommitScheduler } from './commit-scheduler.js';

function harness(limit: number, intervalMs: number): { s: CommitScheduler; commits: () => number; write: (n: number) => void } {
  let pending = 0;
  let commits = 0;
  const s = new CommitScheduler(
    () => pending,
    () => {
      commits++;
      pending = 0;
      s.committed();
    },
    { limit, intervalMs },
  );
  return {
    s,
    commits: () => commits,
    write: (n) => {
      pending += n;
      s.written();
    },
  };
}

test('writes below the limit are committed together once the interval passes', async () => {
  const h = harness(100, 20);
  h.write(1);
  h.write(1);
  h.write(1);
  assert.equal(h.commits(), 0);
  await sleep(60);
  assert.equal(h.commits(), 1);
});

test('reaching the limit commits at once', () => {
  const h = harness(3, 10_000);
  h.write(2);
  assert.equal(h.commits(), 0);
  h.write(1);
  assert.equal(h.commits(), 1);
  h.s.stop();
});

test('a commit made elsewhere cancels the due one, and a stopped scheduler commits nothing', async () => {
  const h = harness(100, 20);
  h.write(1);
  h.s.committed();
  await sleep(50);
  assert.equal(h.commits(), 0);
  h.write(1);
  h.s.stop();
  h.write(500);
  await sleep(50);
  assert.equal(h.commits(), 0);
});
