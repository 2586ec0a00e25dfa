import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event as PbEvent, Event_EventType } from '../api/gen/mvccpb.js';
import { WatchResponse as PbWatchResponse } from '../api/gen/etcdserverpb.js';
import { Backend } from '../backend/backend.js';
import { keyString } from '../backend/key-string.js';
import type { KeyValue } from './key-value.js';
import { KvStore } from './kv-store.js';
import { WatchableStore } from './watchable-store.js';
import { eventSize, watchResponseSize, type WatchEvent, type WatchResponse } from './watch-response.js';
import type { WatchStream } from './watch-stream.js';

const enc = new TextEncoder();
const b = (s: string): Uint8Array => enc.encode(s);

/** A fresh store over a temporary backend, removed by `close`. */
function open(options?: ConstructorParameters<typeof WatchableStore>[1]): { kv: KvStore; ws: WatchableStore; close: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'watchable-'));
  const backend = Backend.open({ path: join(dir, 'db') });
  const kv = KvStore.open(backend);
  const ws = new WatchableStore(kv, options);
  return {
    kv,
    ws,
    close: async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function drain(s: WatchStream, into: WatchResponse[] = []): WatchResponse[] {
  for (let r = s.take(); r !== undefined; r = s.take()) into.push(r);
  return into;
}

function revsOf(resps: readonly WatchResponse[], watchId: number): number[] {
  return resps.filter((r) => r.watchId === watchId).flatMap((r) => r.events.map((e) => e.kv.modRevision));
}

test('every write path of the KvStore reaches the watchers: put, deleteRange and write transactions', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream();
    assert.ok(s.watch(0, b('k'), b('\0'), 0).ok);
    kv.put(b('k1'), b('v'));
    kv.deleteRange(b('k1'));
    const txn = kv.write();
    txn.put(b('k2'), b('v'));
    txn.end();
    const empty = kv.write();
    empty.end();
    assert.deepEqual(drain(s).map((r) => r.events.map((e) => `${e.type} ${keyString(e.kv.key)}@${e.kv.modRevision}`)), [
      ['put k1@2'],
      ['delete k1@3'],
      ['put k2@4'],
    ]);
  } finally {
    await close();
  }
});

test('the KvStore takes one transaction listener; closing the watchable store frees it', async () => {
  const { kv, ws, close } = open();
  try {
    assert.throws(() => new WatchableStore(kv), /already set/);
    const s = ws.newWatchStream();
    s.watch(0, b('a'), undefined, 0);
    ws.close();
    kv.put(b('a'), b('1'));
    assert.equal(s.take(), undefined);
    const again = new WatchableStore(kv);
    const t = again.newWatchStream();
    t.watch(0, b('a'), undefined, 0);
    kv.put(b('a'), b('2'));
    assert.deepEqual(revsOf(drain(t), 0), [3]);
  } finally {
    await close();
  }
});

test('a consumer that never reads keeps memory bounded: the queue holds at most its capacity, each victim one response', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream(8);
    const watchers = 50;
    for (let i = 0; i < watchers; i++) s.watch(0, b(`key${i}`), undefined, 0);
    const writes = 2000;
    for (let i = 0; i < writes; i++) kv.put(b(`key${i % watchers}`), b(`v${i}`));
    // Every watcher wrote again after the queue filled: all are victims, each holding one response.
    assert.equal(s.length, 8);
    assert.equal(ws.victimCount, watchers);
    assert.equal(ws.syncedCount, 0);
    // Catch-up: drain, sync, repeat: every watcher ends with all its writes, once, in order.
    const got: WatchResponse[] = [];
    for (let round = 0; round < 1000 && (ws.sync(100) > 0 || s.length > 0); round++) drain(s, got);
    drain(s, got);
    assert.equal(ws.syncedCount, watchers);
    for (let w = 0; w < watchers; w++) {
      const want: number[] = [];
      for (let i = w; i < writes; i += watchers) want.push(i + 2);
      assert.deepEqual(revsOf(got, w), want, `watcher ${w}`);
    }
  } finally {
    await close();
  }
});

test('a victim on one stream does not hold up another stream', async () => {
  const { kv, ws, close } = open();
  try {
    const slow = ws.newWatchStream(1);
    const fast = ws.newWatchStream(4);
    slow.watch(0, b('a'), undefined, 0);
    fast.watch(0, b('a'), undefined, 0);
    const fastGot: WatchResponse[] = [];
    for (let i = 0; i < 20; i++) {
      kv.put(b('a'), b(`${i}`));
      drain(fast, fastGot);
    }
    assert.deepEqual(revsOf(fastGot, 0), Array.from({ length: 20 }, (_, i) => i + 2));
    assert.equal(ws.victimCount, 1);
    const slowGot = drain(slow);
    ws.sync();
    drain(slow, slowGot);
    assert.deepEqual(revsOf(slowGot, 0), Array.from({ length: 20 }, (_, i) => i + 2));
    assert.equal(ws.victimCount + ws.unsyncedCount, 0);
  } finally {
    await close();
  }
});

test('canceling a victim or closing a stream takes its watchers out of the store', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream(1);
    s.watch(0, b('a'), undefined, 0);
    s.watch(0, b('b'), undefined, 1);
    kv.put(b('b'), b('0'));
    kv.put(b('a'), b('1'));
    kv.put(b('a'), b('2'));
    assert.equal(ws.victimCount, 1);
    assert.equal(ws.unsyncedCount, 1);
    assert.ok(s.cancel(0));
    assert.equal(ws.victimCount, 0);
    s.close();
    assert.equal(ws.unsyncedCount + ws.syncedCount, 0);
    assert.equal(s.take(), undefined);
    assert.deepEqual(s.watch(0, b('a'), undefined, 0), { ok: false, code: 'stream-closed' });
  } finally {
    await close();
  }
});

test('the unsynced are caught up at most maxWatchersPerSync at a time, taking turns', async () => {
  const { kv, ws, close } = open({ maxWatchersPerSync: 2 });
  try {
    kv.put(b('a'), b('1'));
    const s = ws.newWatchStream();
    for (let i = 0; i < 5; i++) s.watch(0, b('a'), undefined, 2);
    assert.equal(ws.sync(), 3);
    assert.equal(ws.sync(), 1);
    assert.equal(ws.sync(), 0);
    const got = drain(s);
    for (let i = 0; i < 5; i++) assert.deepEqual(revsOf(got, i), [2]);
  } finally {
    await close();
  }
});

test('the stream iterates asynchronously, in order, and ends when closed', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream(2);
    s.watch(0, b('a'), undefined, 0);
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const r of s) seen.push(r.events[0]!.kv.modRevision);
    })();
    for (let i = 0; i < 10; i++) {
      kv.put(b('a'), b(`${i}`));
      // Let the consumer run between writes, as the gRPC edge would.
      await new Promise((resolve) => setImmediate(resolve));
    }
    s.close();
    await consumer;
    assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => i + 2));
  } finally {
    await close();
  }
});

test('onReady fires when a response lands in an empty queue, not for every response', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream();
    let ready = 0;
    s.onReady(() => ready++);
    s.watch(0, b('a'), undefined, 0);
    kv.put(b('a'), b('1'));
    kv.put(b('a'), b('2'));
    assert.equal(ready, 1);
    assert.equal(drain(s).length, 2);
    kv.put(b('a'), b('3'));
    assert.equal(ready, 2);
  } finally {
    await close();
  }
});

test('a stream-wide progress request waits for victims to catch up', async () => {
  const { kv, ws, close } = open();
  try {
    const s = ws.newWatchStream(1);
    s.watch(0, b('a'), undefined, 0);
    kv.put(b('a'), b('1'));
    kv.put(b('a'), b('2'));
    assert.equal(s.requestProgressAll(), false);
    const got = drain(s);
    ws.sync();
    drain(s, got);
    assert.deepEqual(
      got.map((r) => `${r.watchId}@${r.revision}:${r.events.length}`),
      ['0@2:1', '0@3:1', '-1@3:0'],
    );
  } finally {
    await close();
  }
});

test('eventSize and watchResponseSize match the protobuf encoding', () => {
  const kv = (over: Partial<KeyValue>): KeyValue => ({
    key: b('key'),
    createRevision: 2,
    modRevision: 300,
    version: 1,
    value: new Uint8Array(200).fill(7),
    lease: 0n,
    ...over,
  });
  const events: WatchEvent[] = [
    { type: 'put', kv: kv({}) },
    { type: 'put', kv: kv({ lease: 0x1234_5678_9abcn }) },
    { type: 'put', kv: kv({ lease: -5n, modRevision: 2 ** 40 }) },
    { type: 'delete', kv: kv({ createRevision: 0, version: 0, value: new Uint8Array(0) }), prevKv: kv({ modRevision: 299 }) },
    { type: 'put', kv: kv({ value: new Uint8Array(0) }), prevKv: kv({ value: new Uint8Array(0), version: 0 }) },
  ];
  const toPb = (e: WatchEvent): PbEvent => ({
    type: e.type === 'put' ? Event_EventType.PUT : Event_EventType.DELETE,
    kv: { ...e.kv },
    prevKv: e.prevKv === undefined ? undefined : { ...e.prevKv },
  });
  for (const e of events) assert.equal(eventSize(e), PbEvent.encode(toPb(e)).length);
  const resp: WatchResponse = { watchId: 0, events, revision: 1, compactRevision: 0 };
  assert.equal(watchResponseSize(resp), PbWatchResponse.encode(PbWatchResponse.create({ events: events.map(toPb) })).length);
});
