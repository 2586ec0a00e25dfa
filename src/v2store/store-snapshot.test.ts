import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../pkg/clock.js';
import { isEtcdError } from '../pkg/errors.js';
import { encodeEvent } from './event-json.js';
import { V2Store, type V2Outcome } from './store.js';

const T0 = 1_375_000_000_000;

function ok(o: V2Outcome): void {
  assert.ok(o.ok, o.ok ? '' : `unexpected error ${o.error.errorCode}`);
}

function tree(s: V2Store): string {
  const o = s.get('/', true, true);
  assert.ok(o.ok);
  return encodeEvent(o.event);
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('an empty store saves as etcd marshals its store struct', () => {
  const s = new V2Store({ clock: new ManualClock(T0), namespaces: ['/0', '/1'], historyCapacity: 2 });
  assert.equal(
    text(s.save()),
    '{"Root":{"Path":"/","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{' +
      '"0":{"Path":"/0","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{}},' +
      '"1":{"Path":"/1","CreatedIndex":0,"ModifiedIndex":0,"ExpireTime":"0001-01-01T00:00:00Z","Value":"","Children":{}}}},' +
      '"WatcherHub":{"EventHistory":{"Queue":{"Events":[null,null],"Size":0,"Front":0,"Back":0,"Capacity":2},"StartIndex":0,"LastIndex":0}},' +
      '"CurrentIndex":0,"Stats":{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,' +
      '"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,' +
      '"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0},"CurrentVersion":2}',
  );
});

test('save then recovery restores tree, index, TTLs, history and counters', () => {
  const clock = new ManualClock(T0);
  const a = new V2Store({ clock, namespaces: ['/0', '/1'] });
  ok(a.set('/1/file', false, 'v<1>'));
  ok(a.create('/1/dir/x', false, 'x', false, { expireTime: T0 + 3000 }));
  ok(a.create('/1/tdir', true, '', false, { expireTime: T0 + 2000 }));
  ok(a.create('/1/q', false, 'job', true));
  ok(a.set('/1/file', false, '', { expireTime: T0 + 9000, refresh: true }));
  ok(a.delete('/1/q', true, true));
  const saved = a.save();

  const b = new V2Store({ clock, namespaces: ['/0', '/1'] });
  const wb = b.watch('/1/dir/x', false, true, 0);
  assert.ok(wb.ok);
  b.recovery(saved);
  assert.equal(tree(b), tree(a));
  assert.equal(b.currentIndex, a.currentIndex);
  assert.deepEqual(b.statsSnapshot(), { ...a.statsSnapshot(), watchers: 1 });

  // The history came along: a watch from index 1 is answered from it.
  const w = b.watch('/1/file', false, false, 1);
  assert.ok(w.ok);
  assert.equal(w.watcher.next()?.node.value, 'v<1>');

  // The TTL heap was rebuilt: keys expire in order, and the watcher that waited through the
  // recovery hears its key go.
  clock.advance(3000);
  const expired = b.deleteExpiredKeys(clock.now()).map((e) => e.node.key);
  assert.deepEqual(expired, ['/1/tdir', '/1/dir/x']);
  assert.equal(wb.watcher.next()?.action, 'expire');
  clock.advance(6000);
  assert.deepEqual(b.deleteExpiredKeys(clock.now()).map((e) => e.node.key), ['/1/file']);
});

test('a snapshot with the same content saves to the same bytes', () => {
  const clock = new ManualClock(T0);
  const a = new V2Store({ clock });
  for (let i = 0; i < 1500; i++) ok(a.set(`/k${i % 37}/v${i % 5}`, false, `value ${i}`, i % 7 === 0 ? { expireTime: T0 + i * 1000 } : {}));
  const b = new V2Store({ clock });
  b.recovery(a.save());
  assert.equal(text(b.save()), text(a.save()));
});

test('recovery reads a Go-written snapshot with local-time offsets and nanoseconds', () => {
  const clock = new ManualClock(T0);
  const goSnapshot = JSON.stringify({
    Root: {
      Path: '/',
      CreatedIndex: 0,
      ModifiedIndex: 0,
      ExpireTime: '0001-01-01T00:00:00Z',
      Value: '',
      Children: {
        '1': {
          Path: '/1',
          CreatedIndex: 0,
          ModifiedIndex: 0,
          ExpireTime: '0001-01-01T00:00:00Z',
          Value: '',
          Children: {
            foo: { Path: '/1/foo', CreatedIndex: 4, ModifiedIndex: 5, ExpireTime: '2013-07-28T16:26:45.123456789+08:00', Value: 'bar', Children: null },
          },
        },
      },
    },
    WatcherHub: {
      EventHistory: {
        Queue: {
          Events: [
            { action: 'set', node: { key: '/1/foo', value: 'bar', expiration: '2013-07-28T08:26:45.123456789Z', ttl: 5, modifiedIndex: 5, createdIndex: 4 }, prevNode: { key: '/1/foo', value: 'old', modifiedIndex: 4, createdIndex: 4 } },
            null,
            { action: 'create', node: { key: '/1/foo', value: 'old', modifiedIndex: 4, createdIndex: 4 } },
          ],
          Size: 2,
          Front: 2,
          Back: 1,
          Capacity: 3,
        },
        StartIndex: 4,
        LastIndex: 5,
      },
    },
    CurrentIndex: 5,
    Stats: { setsSuccess: 1, createSuccess: 1, watchers: 0 },
    CurrentVersion: 2,
  });
  const s = new V2Store({ clock, namespaces: ['/0', '/1'] });
  s.recovery(new TextEncoder().encode(goSnapshot));
  const got = s.get('/1/foo');
  assert.ok(got.ok);
  assert.equal(got.event.node.expiration, '2013-07-28T08:26:45.123Z');
  assert.equal(got.event.node.ttl, 6);
  assert.equal(s.currentIndex, 5);
  assert.equal(s.statsSnapshot().setsSuccess, 1);
  const w = s.watch('/1/foo', false, false, 4);
  assert.ok(w.ok);
  assert.equal(w.watcher.next()?.action, 'create');
  clock.set(T0 + 5124);
  assert.equal(s.deleteExpiredKeys(clock.now()).length, 1);
  assert.equal(s.currentIndex, 6);
});

test('a malformed snapshot throws and leaves the store as it was', () => {
  const s = new V2Store({ clock: new ManualClock(T0) });
  ok(s.set('/keep', false, 'me'));
  const before = tree(s);
  const good = JSON.parse(text(s.save())) as Record<string, unknown>;
  const bad = [
    'not json',
    '[]',
    JSON.stringify({ ...good, Root: { Path: '/', Children: null } }),
    JSON.stringify({ ...good, Root: { Path: '/', ExpireTime: 'soon', Children: {} } }),
    JSON.stringify({ ...good, CurrentIndex: -1 }),
    JSON.stringify({ ...good, WatcherHub: {} }),
    JSON.stringify({ ...good, WatcherHub: { EventHistory: { Queue: { Events: [], Capacity: 0 } } } }),
    JSON.stringify({ ...good, WatcherHub: { EventHistory: { Queue: { Events: [{ action: 'explode', node: {} }], Size: 1, Capacity: 1 } } } }),
  ];
  for (const b of bad) {
    assert.throws(() => s.recovery(new TextEncoder().encode(b)), (err: unknown) => isEtcdError(err, 'v2-snapshot-corrupt'), b.slice(0, 60));
    assert.equal(tree(s), before);
  }
});
