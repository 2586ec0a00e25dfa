import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainNode, type V2Event } from './event.js';
import { WatcherHub } from './watcher-hub.js';
import { WATCHER_QUEUE_CAPACITY, type V2Watcher } from './watcher.js';

function ev(index: number, key: string): V2Event {
  return { action: 'set', node: plainNode(key, index, index), prevNode: undefined, etcdIndex: index, refresh: false };
}

function watch(hub: WatcherHub, key: string, recursive: boolean, stream: boolean, index: number): V2Watcher {
  const o = hub.watch(key, recursive, stream, index, index - 1);
  assert.ok(o.ok);
  return o.watcher;
}

test('a listener gets queued events at once, then each new one as it happens', () => {
  const hub = new WatcherHub(10);
  const w = watch(hub, '/a', false, true, 1);
  hub.notify(ev(1, '/a'));
  const seen: number[] = [];
  w.listen((e) => seen.push(e.etcdIndex));
  assert.deepEqual(seen, [1]);
  hub.notify(ev(2, '/a'));
  hub.notify(ev(3, '/b'));
  assert.deepEqual(seen, [1, 2]);
  assert.equal(w.pending, 0);
});

test('a one-shot watcher leaves the hub after its first event', () => {
  const hub = new WatcherHub(10);
  const w = watch(hub, '/a', false, false, 1);
  assert.equal(hub.count, 1);
  assert.equal(w.closed, false);
  hub.notify(ev(1, '/a'));
  hub.notify(ev(2, '/a'));
  assert.equal(hub.count, 0);
  assert.equal(w.closed, true);
  assert.equal(w.pending, 1);
  assert.equal(w.next()?.etcdIndex, 1);
  assert.equal(w.next(), undefined);
});

test('events before sinceIndex are not delivered', () => {
  const hub = new WatcherHub(10);
  const w = watch(hub, '/a', false, true, 3);
  hub.notify(ev(1, '/a'));
  hub.notify(ev(2, '/a'));
  hub.notify(ev(3, '/a'));
  assert.deepEqual([w.next()?.etcdIndex, w.next()], [3, undefined]);
});

test('a pulled watcher that falls behind is dropped, as etcd drops a full channel', () => {
  const hub = new WatcherHub(10);
  const w = watch(hub, '/a', true, true, 1);
  for (let i = 1; i <= WATCHER_QUEUE_CAPACITY; i++) hub.notify(ev(i, '/a'));
  assert.equal(w.closed, false);
  assert.equal(w.pending, WATCHER_QUEUE_CAPACITY);
  hub.notify(ev(WATCHER_QUEUE_CAPACITY + 1, '/a'));
  assert.equal(w.closed, true);
  assert.equal(w.overflowed, true);
  assert.equal(hub.count, 0);
  assert.equal(w.pending, WATCHER_QUEUE_CAPACITY);
  hub.notify(ev(WATCHER_QUEUE_CAPACITY + 2, '/a'));
  assert.equal(w.pending, WATCHER_QUEUE_CAPACITY);
});

test('remove is idempotent and counts once', () => {
  const hub = new WatcherHub(10);
  const a = watch(hub, '/a', false, false, 1);
  const b = watch(hub, '/a', false, false, 1);
  assert.equal(hub.count, 2);
  a.remove();
  a.remove();
  assert.equal(hub.count, 1);
  hub.notify(ev(1, '/a'));
  assert.equal(a.pending, 0);
  assert.equal(b.pending, 1);
  assert.equal(hub.count, 0);
});

test('a listener may remove its own watcher (and others on the path) while being notified', () => {
  const hub = new WatcherHub(10);
  const a = watch(hub, '/a', false, true, 1);
  const b = watch(hub, '/a', false, true, 1);
  const got: string[] = [];
  a.listen(() => {
    got.push('a');
    a.remove();
    b.remove();
  });
  b.listen(() => got.push('b'));
  hub.notify(ev(1, '/a'));
  hub.notify(ev(2, '/a'));
  assert.deepEqual(got, ['a']);
  assert.equal(hub.count, 0);
});

test('a watch answered from the history is closed and holds a copy at the store index', () => {
  const hub = new WatcherHub(10);
  const original = ev(1, '/a');
  hub.notify(original);
  hub.notify(ev(2, '/b'));
  const o = hub.watch('/a', false, false, 1, 2);
  assert.ok(o.ok);
  assert.equal(o.watcher.closed, true);
  assert.equal(hub.count, 0);
  const e = o.watcher.next()!;
  assert.equal(e.etcdIndex, 2);
  assert.equal(e.node, original.node);
  assert.equal(original.etcdIndex, 1);
});

test('a cleared index is an error carrying the store index', () => {
  const hub = new WatcherHub(1);
  hub.notify(ev(1, '/a'));
  hub.notify(ev(2, '/a'));
  const o = hub.watch('/a', false, false, 1, 9);
  assert.ok(!o.ok);
  assert.equal(o.error.errorCode, 401);
  assert.equal(o.error.index, 9);
  assert.equal(o.error.cause, 'the requested history has been cleared [2/1]');
});
