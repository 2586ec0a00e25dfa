import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newMessage, MessageType } from '../api/raftpb/types.js';
import { V2Stats } from './v2-stats.js';

test("each MsgApp sent counts for its follower, with etcd's running latency figures; inactive streams count as fails", () => {
  let now = 1000;
  const s = new V2Stats(() => now);
  const app = newMessage({ type: MessageType.MsgApp, to: 2n, from: 1n });
  s.sendAppend(app, true, 2);
  now += 100;
  s.sendAppend(app, true, 4);
  s.sendAppend({ ...app, to: 3n }, false, 1);
  assert.equal(s.sendAppendRequestCnt, 3);
  const f = s.follower(2n);
  assert.deepEqual(f.counts, { fail: 0, success: 2 });
  assert.equal(f.latency.current, 4);
  assert.equal(f.latency.average, 3);
  assert.equal(f.latency.minimum, 2);
  assert.equal(f.latency.maximum, 4);
  assert.equal(f.latency.standardDeviation, 1);
  assert.deepEqual(s.follower(3n).counts, { fail: 1, success: 0 });
});

test('rates are per second over the recent messages, and zero once idle for a second', () => {
  let now = 0;
  const s = new V2Stats(() => now);
  for (let i = 0; i < 11; i++) {
    s.recvAppend(newMessage({ type: MessageType.MsgApp, from: 1n }));
    now += 100;
  }
  now -= 100;
  assert.equal(s.recvAppendRequestCnt, 11);
  assert.equal(s.recvRate().pkg, 11);
  now += 1001;
  assert.deepEqual(s.recvRate(), { pkg: 0, bandwidth: 0 });
});

test('a leader change is recorded with its time', () => {
  const s = new V2Stats(() => 42);
  s.leaderChanged(7n);
  assert.equal(s.leader, 7n);
  assert.equal(s.leaderSinceMs, 42);
});
