import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageQueue, estimateMessageSize } from './message-queue.js';
import { msgApp } from './test-kit.js';

test('the queue is FIFO across wrap-around and refuses pushes beyond its capacity', () => {
  const q = new MessageQueue(4, 1 << 20);
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 10; round++) {
    while (q.push(msgApp(1n, 2n, next), 10)) next++;
    assert.equal(q.length, 4);
    assert.equal(q.push(msgApp(1n, 2n, 999), 10), false);
    for (let i = 0; i < 3; i++) assert.equal(q.shift()!.index, expect++);
  }
  assert.equal(q.clear(), 1);
  assert.equal(q.bytes, 0);
  assert.equal(q.shift(), undefined);
});

test('the queue refuses a push beyond its byte bound, but always takes one message when empty', () => {
  const q = new MessageQueue(100, 1000);
  assert.ok(q.push(msgApp(1n, 2n, 1), 600));
  assert.equal(q.push(msgApp(1n, 2n, 2), 600), false);
  assert.ok(q.push(msgApp(1n, 2n, 3), 400));
  assert.equal(q.bytes, 1000);
  q.clear();
  assert.ok(q.push(msgApp(1n, 2n, 4), 5000), 'a single oversized message is accepted');
  assert.equal(q.push(msgApp(1n, 2n, 5), 1), false);
});

test('the size estimate grows with entries and their data', () => {
  assert.ok(estimateMessageSize(msgApp(1n, 2n, 1, 16, 100)) >= 16 * 100);
  assert.ok(estimateMessageSize(msgApp(1n, 2n, 1, 16, 100)) > estimateMessageSize(msgApp(1n, 2n, 1, 1, 100)));
});
