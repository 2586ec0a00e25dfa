import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyConfState, type ConfState } from '../../api/raftpb/types.js';
import { seededRand, type Rand } from '../../pkg/rand.js';
import { ProgressTracker, describeTrackerConfig } from '../tracker/index.js';
import { Changer } from './changer.js';
import { confStateEquivalent, describeConfState } from './describe.js';
import { restore } from './restore.js';

function restored(cs: ConfState, lastIndex = 10): ProgressTracker {
  const t = new ProgressTracker(20);
  const r = restore(new Changer(t, lastIndex, 20), cs);
  assert.ok(r.ok, r.ok ? '' : `${r.error} for ${describeConfState(cs)}`);
  t.config = r.config;
  t.progress = r.progress;
  return t;
}

// A random valid ConfState: voters, learners disjoint from all voters, learnersNext drawn from
// outgoing voters that are not incoming voters, autoLeave only when joint.
function randomConfState(rand: Rand): ConfState {
  const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => BigInt(from + i));
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = rand.intn(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const pool = shuffle(ids(12, 1));
  const nVoters = 1 + rand.intn(5);
  const voters = pool.slice(0, nVoters);
  const rest = pool.slice(nVoters);
  let outgoing: bigint[] = [];
  let learnersNext: bigint[] = [];
  if (rand.intn(2) === 0) {
    // Outgoing voters overlap the incoming ones partly and add some of their own.
    const kept = voters.filter(() => rand.intn(2) === 0);
    const own = rest.splice(0, rand.intn(3));
    outgoing = shuffle([...kept, ...own]);
    if (outgoing.length === 0) outgoing = [rest.shift()!];
    learnersNext = outgoing.filter((id) => !voters.includes(id) && rand.intn(2) === 0);
  }
  const joint = outgoing.length > 0;
  const learners = rest.filter((id) => !outgoing.includes(id)).slice(0, rand.intn(4));
  return { voters, learners, votersOutgoing: outgoing, learnersNext, autoLeave: joint && rand.intn(2) === 0 };
}

test('restore then confState round-trips random ConfStates', () => {
  const rand = seededRand(20240611);
  for (let i = 0; i < 500; i++) {
    const cs = randomConfState(rand);
    const got = restored(cs).confState();
    assert.ok(confStateEquivalent(got, cs), `case ${i}: want ${describeConfState(cs)}, got ${describeConfState(got)}`);
  }
});

test('restore of a joint ConfState enters the joint config with staged learners', () => {
  const cs: ConfState = { voters: [1n, 2n, 3n], learners: [5n], votersOutgoing: [1n, 2n, 4n, 6n], learnersNext: [4n], autoLeave: true };
  const t = restored(cs);
  assert.equal(describeTrackerConfig(t.config), 'voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave');
  assert.deepEqual([...t.progress.keys()].sort(), [1n, 2n, 3n, 4n, 5n, 6n]);
  for (const pr of t.progress.values()) assert.equal(pr.next, 10);
  assert.equal(t.progress.get(5n)!.isLearner, true);
  assert.equal(t.progress.get(4n)!.isLearner, false);
});

test('restore of an empty ConfState yields an empty config', () => {
  const t = restored(emptyConfState());
  assert.equal(describeTrackerConfig(t.config), 'voters=()');
  assert.equal(t.progress.size, 0);
});

test('restore reports an invalid ConfState', () => {
  const t = new ProgressTracker(20);
  const r = restore(new Changer(t, 1, 20), { ...emptyConfState(), learners: [1n] });
  assert.deepEqual(r, { ok: false, error: 'removed all voters' });
});
