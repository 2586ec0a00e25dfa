import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';
import { Progress, describeProgressMap } from './progress.js';
import { ProgressState } from './progress-state.js';

function progress(fields: Partial<Pick<Progress, 'match' | 'next' | 'state' | 'pendingSnapshot' | 'msgAppFlowPaused'>> = {}, size = 256): Progress {
  const pr = new Progress({ match: fields.match ?? 0, next: fields.next ?? 1, inflights: new Inflights(size) });
  if (fields.state !== undefined) pr.state = fields.state;
  if (fields.pendingSnapshot !== undefined) pr.pendingSnapshot = fields.pendingSnapshot;
  if (fields.msgAppFlowPaused !== undefined) pr.msgAppFlowPaused = fields.msgAppFlowPaused;
  return pr;
}

test('becomeProbe sets next to match+1, or past a pending snapshot', () => {
  const cases: { state: ProgressState; match: number; next: number; pending: number; wantNext: number }[] = [
    { state: ProgressState.StateReplicate, match: 1, next: 5, pending: 0, wantNext: 2 },
    { state: ProgressState.StateSnapshot, match: 1, next: 5, pending: 10, wantNext: 11 },
    { state: ProgressState.StateSnapshot, match: 1, next: 5, pending: 0, wantNext: 2 },
  ];
  for (const c of cases) {
    const pr = progress({ state: c.state, match: c.match, next: c.next, pendingSnapshot: c.pending });
    pr.becomeProbe();
    assert.equal(pr.state, ProgressState.StateProbe);
    assert.equal(pr.match, c.match);
    assert.equal(pr.next, c.wantNext);
    assert.equal(pr.pendingSnapshot, 0);
  }
});

test('becomeReplicate sets next to match+1 and clears inflights', () => {
  const pr = progress({ match: 1, next: 5 });
  pr.inflights.add(3);
  pr.becomeReplicate();
  assert.equal(pr.state, ProgressState.StateReplicate);
  assert.equal(pr.next, 2);
  assert.equal(pr.inflights.count(), 0);
});

test('becomeSnapshot records the pending snapshot and keeps match and next', () => {
  const pr = progress({ match: 1, next: 5 });
  pr.becomeSnapshot(10);
  assert.equal(pr.state, ProgressState.StateSnapshot);
  assert.equal(pr.match, 1);
  assert.equal(pr.next, 5);
  assert.equal(pr.pendingSnapshot, 10);
});

test('maybeUpdate advances match and never moves next backwards', () => {
  const cases: { update: number; wantMatch: number; wantNext: number; ok: boolean }[] = [
    { update: 2, wantMatch: 3, wantNext: 5, ok: false }, // stale: below match
    { update: 3, wantMatch: 3, wantNext: 5, ok: false }, // duplicate
    { update: 4, wantMatch: 4, wantNext: 5, ok: true },
    { update: 6, wantMatch: 6, wantNext: 7, ok: true }, // ahead of next
  ];
  for (const c of cases) {
    const pr = progress({ match: 3, next: 5, msgAppFlowPaused: true });
    assert.equal(pr.maybeUpdate(c.update), c.ok, `update ${c.update}`);
    assert.equal(pr.match, c.wantMatch);
    assert.equal(pr.next, c.wantNext);
    assert.equal(pr.msgAppFlowPaused, !c.ok, 'a real ack unpauses probing');
  }
});

test('maybeDecrTo in replicate ignores stale rejections and otherwise falls back to match+1', () => {
  const cases: { match: number; next: number; rejected: number; hint: number; ok: boolean; wantNext: number }[] = [
    { match: 5, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 },
    { match: 5, next: 10, rejected: 4, hint: 4, ok: false, wantNext: 10 },
    { match: 5, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 6 },
    { match: 5, next: 10, rejected: 7, hint: 2, ok: true, wantNext: 6 },
  ];
  for (const c of cases) {
    const pr = progress({ state: ProgressState.StateReplicate, match: c.match, next: c.next });
    assert.equal(pr.maybeDecrTo(c.rejected, c.hint), c.ok);
    assert.equal(pr.match, c.match);
    assert.equal(pr.next, c.wantNext);
  }
});

test('maybeDecrTo in probe accepts only a rejection of next-1 and uses the hint', () => {
  const cases: { match: number; next: number; rejected: number; hint: number; ok: boolean; wantNext: number }[] = [
    { match: 0, next: 0, rejected: 0, hint: 0, ok: false, wantNext: 0 }, // next-1 != rejected
    { match: 0, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 }, // stale
    { match: 0, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 9 }, // hint too high: next = rejected
    { match: 0, next: 2, rejected: 1, hint: 0, ok: true, wantNext: 1 },
    { match: 0, next: 1, rejected: 0, hint: 0, ok: true, wantNext: 1 }, // never below 1
    { match: 0, next: 10, rejected: 9, hint: 2, ok: true, wantNext: 3 },
    { match: 4, next: 10, rejected: 9, hint: 2, ok: true, wantNext: 5 }, // never at or below match
  ];
  for (const c of cases) {
    const pr = progress({ match: c.match, next: c.next, msgAppFlowPaused: true });
    assert.equal(pr.maybeDecrTo(c.rejected, c.hint), c.ok, JSON.stringify(c));
    assert.equal(pr.next, c.wantNext, JSON.stringify(c));
    assert.equal(pr.msgAppFlowPaused, !c.ok, 'a genuine rejection unpauses probing');
  }
});

test('isPaused per state: probe after one send, replicate when inflights full, snapshot always', () => {
  const probe = progress({ state: ProgressState.StateProbe });
  assert.equal(probe.isPaused(), false);
  probe.sentEntries(1, 10);
  assert.equal(probe.isPaused(), true);
  assert.equal(probe.next, 1, 'a probe does not advance next');
  probe.maybeUpdate(1);
  assert.equal(probe.isPaused(), false);

  const repl = progress({ state: ProgressState.StateReplicate }, 2);
  repl.msgAppFlowPaused = true;
  assert.equal(repl.isPaused(), false);
  repl.sentEntries(3, 30);
  assert.equal(repl.next, 4);
  assert.equal(repl.isPaused(), false);
  repl.sentEntries(1, 10);
  assert.equal(repl.next, 5);
  assert.equal(repl.isPaused(), true);
  repl.inflights.freeLE(3);
  assert.equal(repl.isPaused(), false);

  const snap = progress({ state: ProgressState.StateSnapshot });
  assert.equal(snap.isPaused(), true);
});

test('sentEntries with no entries in replicate changes nothing', () => {
  const pr = progress({ state: ProgressState.StateReplicate, match: 2, next: 3 });
  pr.sentEntries(0, 0);
  assert.equal(pr.next, 3);
  assert.equal(pr.inflights.count(), 0);
});

test('optimisticUpdate moves next past the sent index', () => {
  const pr = progress({ state: ProgressState.StateReplicate, match: 2, next: 3 });
  pr.optimisticUpdate(7);
  assert.equal(pr.next, 8);
});

test('state changes resume probing', () => {
  const pr = progress({ msgAppFlowPaused: true });
  pr.becomeReplicate();
  assert.equal(pr.msgAppFlowPaused, false);
  pr.msgAppFlowPaused = true;
  pr.becomeProbe();
  assert.equal(pr.isPaused(), false);
});

test('toString shows state, flags and inflights', () => {
  const pr = progress({ state: ProgressState.StateReplicate, match: 1, next: 2 }, 1);
  pr.isLearner = true;
  pr.sentEntries(1, 0);
  assert.equal(pr.toString(), 'StateReplicate match=1 next=3 learner paused inactive inflight=1[full]');
  const snap = progress({ match: 3, next: 4 });
  snap.recentActive = true;
  snap.becomeSnapshot(9);
  assert.equal(snap.toString(), 'StateSnapshot match=3 next=4 paused pendingSnap=9');
  assert.equal(describeProgressMap(new Map([[2n, snap], [1n, progress()]])), '1: StateProbe match=0 next=1 inactive\n2: StateSnapshot match=3 next=4 paused pendingSnap=9\n');
});

test('shallowClone copies fields and shares the inflights window', () => {
  const pr = progress({ state: ProgressState.StateReplicate, match: 3, next: 7, pendingSnapshot: 0 });
  pr.recentActive = true;
  const c = pr.shallowClone();
  assert.equal(c.toString(), pr.toString());
  assert.equal(c.inflights, pr.inflights);
  c.isLearner = true;
  assert.equal(pr.isLearner, false);
});
