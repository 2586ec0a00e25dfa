import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType } from '../../api/raftpb/types.js';
import { Inflights, Progress, ProgressTracker, describeTrackerConfig, describeProgressMap } from '../tracker/index.js';
import { Changer, checkInvariants, type ChangeResult } from './changer.js';
import { confChangesFromString as ccs } from './describe.js';

function install(t: ProgressTracker, r: ChangeResult): void {
  assert.ok(r.ok, r.ok ? '' : r.error);
  t.config = r.config;
  t.progress = r.progress;
}

function trackerWith(voters: string): ProgressTracker {
  const t = new ProgressTracker(5);
  for (const cc of ccs(voters)) install(t, new Changer(t, 7, 5).simple([cc]));
  return t;
}

function errorOf(r: ChangeResult): string {
  assert.equal(r.ok, false);
  return r.ok ? '' : r.error;
}

test('new progresses start at next = max(lastIndex, 1), recently active, with the given inflights', () => {
  const t = new ProgressTracker(5);
  install(t, new Changer(t, 0, 3, 100).simple(ccs('v1')));
  const pr1 = t.progress.get(1n)!;
  assert.equal(pr1.next, 1);
  assert.equal(pr1.match, 0);
  assert.equal(pr1.recentActive, true);
  assert.equal(pr1.inflights.size, 3);
  assert.equal(pr1.inflights.maxBytes, 100);
  install(t, new Changer(t, 42, 3).simple(ccs('l2')));
  assert.equal(t.progress.get(2n)!.next, 42);
  assert.equal(t.progress.get(2n)!.isLearner, true);
});

test('the changer never mutates its input', () => {
  const t = trackerWith('v1 v2 v3 l4');
  const before = describeTrackerConfig(t.config) + describeProgressMap(t.progress);
  const configRef = t.config;
  const progressRef = t.progress;
  const pr3 = t.progress.get(3n)!;
  const r = new Changer(t, 9, 5).enterJoint(true, ccs('l3 v4 r1 v5'));
  assert.ok(r.ok);
  assert.equal(describeTrackerConfig(r.config), 'voters=(2 4 5)&&(1 2 3) learners_next=(3) autoleave');
  assert.equal(t.config, configRef);
  assert.equal(t.progress, progressRef);
  assert.equal(describeTrackerConfig(t.config) + describeProgressMap(t.progress), before);
  assert.equal(pr3.isLearner, false);
  assert.equal(t.progress.get(4n)!.isLearner, true);
  // Progress copies keep the follower's position and share its inflights window.
  assert.notEqual(r.progress.get(2n), t.progress.get(2n));
  assert.equal(r.progress.get(2n)!.inflights, t.progress.get(2n)!.inflights);
});

test('simple rejects joint configs and changes of more than one voter', () => {
  const t = trackerWith('v1 v2 v3');
  assert.equal(errorOf(new Changer(t, 0, 5).simple(ccs('v4 v5'))), 'more than one voter changed without entering joint config');
  assert.equal(errorOf(new Changer(t, 0, 5).simple(ccs('r1 v4'))), 'more than one voter changed without entering joint config');
  assert.equal(errorOf(new Changer(t, 0, 5).simple(ccs('r1 r2 r3'))), 'removed all voters');
  install(t, new Changer(t, 0, 5).enterJoint(false, ccs('v4')));
  assert.equal(errorOf(new Changer(t, 0, 5).simple(ccs('v5'))), "can't apply simple config change in joint config");
});

test('a voter removed and re-added in one simple change counts as unchanged', () => {
  const t = trackerWith('v1 v2 v3');
  const r = new Changer(t, 0, 5).simple(ccs('r1 v1 v4'));
  assert.ok(r.ok);
  assert.equal(describeTrackerConfig(r.config), 'voters=(1 2 3 4)');
});

test('enterJoint and leaveJoint errors', () => {
  const empty = new ProgressTracker(5);
  assert.equal(errorOf(new Changer(empty, 0, 5).enterJoint(false, ccs('v1'))), "can't make a zero-voter config joint");
  assert.equal(errorOf(new Changer(empty, 0, 5).leaveJoint()), "can't leave a non-joint config");
  const t = trackerWith('v1 v2');
  assert.equal(errorOf(new Changer(t, 0, 5).enterJoint(false, ccs('r1 r2'))), 'removed all voters');
  install(t, new Changer(t, 0, 5).enterJoint(true, ccs('v3')));
  assert.equal(errorOf(new Changer(t, 0, 5).enterJoint(false, ccs('v4'))), 'config is already joint');
  install(t, new Changer(t, 0, 5).leaveJoint());
  assert.equal(describeTrackerConfig(t.config), 'voters=(1 2 3)');
  assert.equal(t.config.autoLeave, false);
});

test('an unknown change type is reported', () => {
  const t = trackerWith('v1');
  const r = new Changer(t, 0, 5).simple([{ type: 9 as ConfChangeType, nodeId: 2n }]);
  assert.equal(errorOf(r), 'unexpected conf type 9');
});

test('adding a learner that is an outgoing voter stages it; promoting a learner makes it a voter', () => {
  const t = trackerWith('v1 v2 v3 l4');
  install(t, new Changer(t, 0, 5).enterJoint(false, ccs('l2 v4')));
  assert.deepEqual([...t.config.learnersNext], [2n]);
  assert.equal(t.progress.get(2n)!.isLearner, false);
  assert.equal(t.progress.get(4n)!.isLearner, false);
  assert.equal(t.config.learners.size, 0);
  assert.deepEqual(t.confState(), { voters: [1n, 3n, 4n], votersOutgoing: [1n, 2n, 3n], learners: [], learnersNext: [2n], autoLeave: false });
  install(t, new Changer(t, 0, 5).leaveJoint());
  assert.deepEqual(t.confState(), { voters: [1n, 3n, 4n], votersOutgoing: [], learners: [2n], learnersNext: [], autoLeave: false });
  assert.equal(t.progress.get(2n)!.isLearner, true);
});

test('leaveJoint drops progresses of peers only the outgoing half had', () => {
  const t = trackerWith('v1 v2 v3');
  install(t, new Changer(t, 0, 5).enterJoint(true, ccs('r3 v4')));
  assert.ok(t.progress.has(3n));
  install(t, new Changer(t, 0, 5).leaveJoint());
  assert.equal(t.progress.has(3n), false);
  assert.deepEqual([...t.progress.keys()].sort(), [1n, 2n, 4n]);
});

test('checkInvariants reports each broken invariant', () => {
  const t = trackerWith('v1 v2 l3');
  const pr = () => new Progress({ next: 1, inflights: new Inflights(1) });
  const base = () => ({ config: { ...t.config, learners: new Set(t.config.learners), learnersNext: new Set<bigint>() }, progress: new Map(t.progress) });

  assert.equal(checkInvariants(t.config, t.progress), undefined);
  let c = base();
  c.progress.delete(2n);
  assert.equal(checkInvariants(c.config, c.progress), 'no progress for 2');
  c = base();
  c.config.learners.add(1n);
  assert.equal(checkInvariants(c.config, c.progress), '1 is in Learners and Voters[0]');
  c = base();
  c.progress.set(5n, pr());
  c.config.learners.add(5n);
  assert.equal(checkInvariants(c.config, c.progress), '5 is in Learners, but is not marked as learner');
  c = base();
  c.config.learnersNext.add(2n);
  assert.equal(checkInvariants(c.config, c.progress), '2 is in LearnersNext, but not Voters[1]');
  c = base();
  c.config.autoLeave = true;
  assert.equal(checkInvariants(c.config, c.progress), 'AutoLeave must be false when not joint');

  install(t, new Changer(t, 0, 5).enterJoint(false, ccs('v4')));
  c = base();
  c.config.learners.add(2n);
  c.config.voters.incoming.ids.delete(2n);
  c.progress.set(2n, Object.assign(pr(), { isLearner: true }));
  assert.equal(checkInvariants(c.config, c.progress), '2 is in Learners and Voters[1]');
  c = base();
  c.config.learnersNext.add(3n);
  c.config.voters.outgoing.ids.add(3n);
  assert.equal(checkInvariants(c.config, c.progress), '3 is in LearnersNext, but is already marked as learner');
});

test('a broken input is refused before any change', () => {
  const t = trackerWith('v1 v2');
  t.progress.delete(2n);
  assert.equal(errorOf(new Changer(t, 0, 5).simple(ccs('l3'))), 'no progress for 2');
});

test('changes with a zero node ID and update changes are ignored', () => {
  const t = trackerWith('v1');
  const r = new Changer(t, 0, 5).simple([
    { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 0n },
    { type: ConfChangeType.ConfChangeUpdateNode, nodeId: 1n },
  ]);
  assert.ok(r.ok);
  assert.equal(describeTrackerConfig(r.config), 'voters=(1)');
});
