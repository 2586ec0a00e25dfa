import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainNode, type V2Action, type V2Event } from './event.js';
import { EventHistory } from './event-history.js';

function ev(index: number, key: string, action: V2Action = 'set', prevDir = false, refresh = false): V2Event {
  const prevNode = action === 'delete' || action === 'expire' ? plainNode(key, index - 1, 1, prevDir) : undefined;
  return { action, node: plainNode(key, index, index), prevNode, etcdIndex: index, refresh };
}

test('keeps the last `capacity` events and tracks their index range', () => {
  const h = new EventHistory(3);
  assert.equal(h.startIndex, 0);
  for (let i = 1; i <= 5; i++) h.add(ev(i, `/k${i}`));
  assert.equal(h.startIndex, 3);
  assert.equal(h.lastIndex, 5);
  assert.equal(h.queue.size, 3);
  assert.equal(h.queue.front, h.queue.back);
});

test('scan finds the first matching event at or after the index', () => {
  const h = new EventHistory(10);
  h.add(ev(1, '/a'));
  h.add(ev(2, '/b/c'));
  h.add(ev(3, '/a'));
  const at = (key: string, recursive: boolean, index: number) => {
    const o = h.scan(key, recursive, index);
    assert.ok(o.ok);
    return o.event?.node.modifiedIndex;
  };
  assert.equal(at('/a', false, 1), 1);
  assert.equal(at('/a', false, 2), 3);
  assert.equal(at('/b', false, 1), undefined);
  assert.equal(at('/b', true, 1), 2);
  assert.equal(at('/', true, 2), 2);
  assert.equal(at('/a', false, 4), undefined);
});

test('scan wraps around the ring', () => {
  const h = new EventHistory(4);
  for (let i = 1; i <= 6; i++) h.add(ev(i, i === 2 || i === 6 ? '/x' : '/y'));
  const o = h.scan('/x', false, 3);
  assert.ok(o.ok);
  assert.equal(o.event?.node.modifiedIndex, 6);
});

test('an index before the history is cleared, with etcd\'s cause', () => {
  const h = new EventHistory(2);
  for (let i = 1; i <= 4; i++) h.add(ev(i, '/a'));
  const o = h.scan('/a', false, 1);
  assert.ok(!o.ok);
  assert.equal(o.error.errorCode, 401);
  assert.equal(o.error.cause, 'the requested history has been cleared [3/1]');
});

test('refresh events are skipped; a deleted directory matches keys below it', () => {
  const h = new EventHistory(10);
  h.add(ev(1, '/a', 'set', false, true));
  h.add(ev(2, '/d', 'delete', true));
  h.add(ev(3, '/f', 'delete', false));
  const first = h.scan('/a', false, 1);
  assert.ok(first.ok);
  assert.equal(first.event, undefined);
  const below = h.scan('/d/x/y', false, 1);
  assert.ok(below.ok);
  assert.equal(below.event?.node.modifiedIndex, 2);
  const notDir = h.scan('/f/x', false, 3);
  assert.ok(notDir.ok);
  assert.equal(notDir.event, undefined);
});
