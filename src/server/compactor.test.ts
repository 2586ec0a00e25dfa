import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rpcError } from '../api/rpctypes/index.js';
import { createLogger } from '../pkg/logger.js';
import { PeriodicCompactor, RevisionCompactor, type CompactorClock } from './compactor.js';

/** A manual clock: timers fire when time is advanced past them. */
class FakeClock implements CompactorClock {
  t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((x) => x !== timer)) };
  }
  async advance(ms: number, step: number): Promise<void> {
    const end = this.t + ms;
    while (this.t < end) {
      this.t += step;
      for (const timer of this.timers.filter((x) => x.at <= this.t)) {
        this.timers = this.timers.filter((x) => x !== timer);
        timer.fn();
        await new Promise((r) => setImmediate(r));
      }
    }
  }
}

const logger = createLogger({ level: 'error', sink: () => undefined });
const HOUR = 3_600_000;

test('revision mode compacts to current - retention every 5 minutes, only when that moved', async () => {
  const clock = new FakeClock();
  let rev = 5;
  const compacted: number[] = [];
  const c = new RevisionCompactor(10, { rev: () => rev, compact: async (r) => void compacted.push(r) }, logger, clock);
  c.resume();
  await clock.advance(5 * 60_000, 60_000);
  assert.deepEqual(compacted, [], 'rev - retention is not positive');
  rev = 30;
  await clock.advance(5 * 60_000, 60_000);
  assert.deepEqual(compacted, [20]);
  await clock.advance(5 * 60_000, 60_000);
  assert.deepEqual(compacted, [20], 'nothing new to compact');
  c.pause();
  rev = 50;
  await clock.advance(10 * 60_000, 60_000);
  assert.deepEqual(compacted, [20], 'paused (not the leader)');
  c.resume();
  await clock.advance(5 * 60_000, 60_000);
  assert.deepEqual(compacted, [20, 40]);
  c.stop();
});

test('periodic mode compacts to the revision of one retention ago, first after the whole retention, then hourly', async () => {
  const clock = new FakeClock();
  let rev = 1;
  const compacted: number[] = [];
  const c = new PeriodicCompactor(2 * HOUR, { rev: () => rev, compact: async (r) => void compacted.push(r) }, logger, clock);
  c.resume();
  // Samples every 6 minutes (1 h / 10); the revision grows by one per sample.
  const tick = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      rev++;
      await clock.advance(6 * 60_000, 6 * 60_000);
    }
  };
  await tick(19);
  assert.deepEqual(compacted, [], 'not before 2 h');
  await tick(1);
  // The oldest of the 21 samples kept (one per 6 min, the last taken one turn ago).
  assert.deepEqual(compacted, [1]);
  await tick(10);
  assert.equal(compacted.length, 2, 'then every hour');
  assert.equal(compacted[1], rev - 21);
  c.stop();
});

test('an already compacted revision counts as done', async () => {
  const clock = new FakeClock();
  let calls = 0;
  const c = new RevisionCompactor(
    1,
    {
      rev: () => 10,
      compact: async () => {
        calls++;
        throw rpcError('compacted');
      },
    },
    logger,
    clock,
  );
  c.resume();
  await clock.advance(15 * 60_000, 60_000);
  assert.equal(calls, 1);
  c.stop();
});
