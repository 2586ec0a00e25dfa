import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../pkg/clock.js';
import { seededRand } from '../pkg/rand.js';
import { encodeClientEvent, encodeEvent } from './event-json.js';
import { V2Store, type V2Outcome } from './store.js';
import type { V2Event } from './event.js';

const T0 = 1_375_000_000_000;

function newStore(clock = new ManualClock(T0)): V2Store {
  return new V2Store({ clock, namespaces: ['/0', '/1'] });
}

function ok(o: V2Outcome): V2Event {
  assert.ok(o.ok, o.ok ? '' : `unexpected error ${o.error.errorCode} ${o.error.cause}`);
  return o.event;
}

test('the README example: PUT /v2/keys/message answers as etcd does', () => {
  const s = newStore();
  const e = ok(s.set('/1/message', false, 'Hello world'));
  assert.equal(encodeClientEvent(e, '/1'), '{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}');
  assert.equal(e.etcdIndex, 1);
  const got = ok(s.get('/1/message'));
  assert.equal(encodeClientEvent(got, '/1'), '{"action":"get","node":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}');
});

test('the event a writer gets is the one its watchers get', () => {
  const s = newStore();
  const w = s.watch('/1/k', false, false, 0);
  assert.ok(w.ok);
  const e = ok(s.create('/1/k', false, 'v', false));
  assert.equal(w.watcher.next(), e);
});

test('long poll: a listener fires once, synchronously, and the watcher closes', () => {
  const s = newStore();
  const o = s.watch('/1/k', true, false, 0);
  assert.ok(o.ok);
  const got: string[] = [];
  o.watcher.listen((e) => got.push(`${e.action} ${e.node.key}`));
  ok(s.set('/1/k/a', false, '1'));
  ok(s.set('/1/k/b', false, '2'));
  assert.deepEqual(got, ['set /1/k/a']);
  assert.equal(o.watcher.closed, true);
  assert.equal(s.watcherCount, 0);
});

test('stream: a listener hears every change until removed', () => {
  const s = newStore();
  const o = s.watch('/1', true, true, 0);
  assert.ok(o.ok);
  const got: number[] = [];
  o.watcher.listen((e) => got.push(e.etcdIndex));
  ok(s.set('/1/a', false, '1'));
  ok(s.update('/1/a', '2'));
  ok(s.delete('/1/a', false, false));
  o.watcher.remove();
  ok(s.set('/1/b', false, '3'));
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(s.watcherCount, 0);
});

test('a watch from an index still in the history answers at once with the store index', () => {
  const s = newStore();
  ok(s.set('/1/a', false, '1'));
  ok(s.set('/1/b', false, '2'));
  const o = s.watch('/1/a', false, false, 1);
  assert.ok(o.ok);
  assert.equal(o.watcher.startIndex, 2);
  const got: V2Event[] = [];
  o.watcher.listen((e) => got.push(e));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.etcdIndex, 2);
  assert.equal(got[0]!.node.modifiedIndex, 1);
});

test('get answers under the key as asked; writes under the clean key', () => {
  const s = newStore();
  const e = ok(s.set('1//x/', false, 'v'));
  assert.equal(e.node.key, '/1/x');
  assert.equal(ok(s.get('/1/./x')).node.key, '/1/./x');
});

test('ttl counts down with the clock and rounds up', () => {
  const clock = new ManualClock(T0);
  const s = newStore(clock);
  ok(s.set('/1/t', false, 'v', { expireTime: T0 + 10_000 }));
  clock.advance(1);
  assert.equal(ok(s.get('/1/t')).node.ttl, 10);
  clock.advance(999);
  assert.equal(ok(s.get('/1/t')).node.ttl, 9);
  clock.advance(9_000);
  assert.equal(ok(s.get('/1/t')).node.ttl, 0);
  assert.equal(s.deleteExpiredKeys(clock.now()).length, 1);
  assert.equal(s.hasTtlKeys(), false);
});

test('a refresh keeps the value and tells no watcher, but moves the index', () => {
  const s = newStore();
  ok(s.set('/1/r', false, 'v', { expireTime: T0 + 5000 }));
  const o = s.watch('/1/r', false, false, 0);
  assert.ok(o.ok);
  const e = ok(s.set('/1/r', false, '', { expireTime: T0 + 60_000, refresh: true }));
  assert.equal(e.node.value, 'v');
  assert.equal(e.refresh, true);
  assert.equal(s.currentIndex, 2);
  assert.equal(o.watcher.pending, 0);
  assert.equal(ok(s.get('/1/r')).node.ttl, 60);
});

test('stats count successes and failures and the waiting watchers', () => {
  const s = newStore();
  ok(s.create('/1/a', false, '1', false));
  assert.equal(s.create('/1/a', false, '1', false).ok, false);
  assert.equal(s.get('/1/none').ok, false);
  s.watch('/1/a', false, false, 0);
  const st = s.statsSnapshot();
  assert.equal(st.createSuccess, 1);
  assert.equal(st.createFail, 1);
  assert.equal(st.getsFail, 1);
  assert.equal(st.watchers, 1);
  assert.match(s.jsonStats(), /^\{"getsSuccess":0,"getsFail":1,"setsSuccess":0,.*"expireCount":0,"watchers":1\}$/);
});

/** Runs random operations; returns every answer printed, for comparing two runs. */
function randomRun(seed: number, s: V2Store, clock: ManualClock, steps: number): string[] {
  const rand = seededRand(seed);
  const keys = ['/1/a', '/1/b', '/1/d/x', '/1/d/y', '/1/d', '/1/_h', '/1/q'];
  const out: string[] = [];
  let writes = 0;
  for (let i = 0; i < steps; i++) {
    const k = keys[rand.intn(keys.length)]!;
    const ttl = rand.intn(3) === 0 ? { expireTime: clock.now() + 1000 * (1 + rand.intn(5)) } : {};
    let o: V2Outcome;
    switch (rand.intn(9)) {
      case 0:
        o = s.get(k, rand.intn(2) === 0, true);
        break;
      case 1:
        o = s.set(k, rand.intn(4) === 0, `v${i}`, ttl);
        break;
      case 2:
        o = s.create(k, rand.intn(4) === 0, `v${i}`, rand.intn(3) === 0, ttl);
        break;
      case 3:
        o = s.update(k, rand.intn(2) === 0 ? '' : `v${i}`, ttl);
        break;
      case 4:
        o = s.compareAndSwap(k, rand.intn(2) === 0 ? `v${i - 1}` : '', rand.intn(2) === 0 ? s.currentIndex : 0, `v${i}`, ttl);
        break;
      case 5:
        o = s.delete(k, rand.intn(2) === 0, rand.intn(2) === 0);
        break;
      case 6:
        o = s.compareAndDelete(k, '', rand.intn(2) === 0 ? s.currentIndex : 0);
        break;
      default: {
        clock.advance(rand.intn(3000));
        const expired = s.deleteExpiredKeys(clock.now());
        writes += expired.length;
        out.push(...expired.map(encodeEvent));
        continue;
      }
    }
    if (o.ok && o.event.action !== 'get') writes++;
    out.push(o.ok ? encodeEvent(o.event) : `${o.error.errorCode} ${o.error.cause} ${o.error.index}`);
    assert.equal(s.currentIndex, writes, `step ${i}: the index counts successful writes and expiries`);
  }
  return out;
}

test('the store is deterministic: same operations, same answers and snapshot', () => {
  const c1 = new ManualClock(T0);
  const c2 = new ManualClock(T0);
  const s1 = newStore(c1);
  const s2 = newStore(c2);
  const answers = randomRun(99, s1, c1, 3000);
  assert.deepEqual(answers, randomRun(99, s2, c2, 3000));
  assert.deepEqual(s1.save(), s2.save());
  // The run covers successes and failures of every kind of write, and expiries.
  for (const action of ['"set"', '"create"', '"update"', '"compareAndSwap"', '"delete"', '"compareAndDelete"', '"expire"']) {
    assert.ok(answers.some((a) => a.startsWith(`{"action":${action}`)), action);
  }
  for (const code of ['100 ', '101 ', '102 ', '104 ', '105 ', '108 ']) assert.ok(answers.some((a) => a.startsWith(code)), code);
  const s3 = newStore(c1);
  s3.recovery(s1.save());
  assert.deepEqual(s3.save(), s1.save());
});
