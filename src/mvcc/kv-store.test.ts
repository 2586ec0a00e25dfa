import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../backend/backend.js';
import { seededRand } from '../pkg/rand.js';
import type { KeyValue } from './key-value.js';
import { KvStore } from './kv-store.js';
import type { LeaseAttacher } from './lease-attacher.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const ALL = new Uint8Array([0]);

/** A temporary backend path, removed by `cleanup`. */
function tempDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kvstore-'));
  return { path: join(dir, 'db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function all(kv: KvStore, rev = 0): string[] {
  const r = kv.range(b(''), ALL, { rev });
  assert.ok(r.ok);
  return r.kvs.map((x: KeyValue) => `${dec.decode(x.key)}=${dec.decode(x.value)}@${x.createRevision}/${x.modRevision}/v${x.version}`);
}

/** The lessor's bookkeeping of keys per lease, as the lease layer keeps it. */
class KeyLeases implements LeaseAttacher {
  readonly byKey = new Map<string, bigint>();
  getLease(key: string): bigint {
    return this.byKey.get(key) ?? 0n;
  }
  attach(lease: bigint, key: string): void {
    this.byKey.set(key, lease);
  }
  detach(lease: bigint, key: string): void {
    if (this.byKey.get(key) === lease) this.byKey.delete(key);
  }
}

test('every write transaction gets the next main revision, its changes increasing subs', () => {
  const db = tempDb();
  const be = Backend.open({ path: db.path });
  try {
    const kv = KvStore.open(be);
    assert.equal(kv.currentRev, 1);
    const w = kv.write();
    assert.deepEqual(w.put(b('x'), b('1')), { ok: true, rev: 2 });
    assert.deepEqual(w.put(b('y'), b('1')), { ok: true, rev: 2 });
    assert.equal(kv.currentRev, 1, 'not visible before end');
    assert.deepEqual(all(kv), []);
    assert.throws(() => kv.write(), /already open/);
    const end = w.end();
    assert.equal(end.rev, 2);
    assert.deepEqual(end.events.map((e) => e.type), ['put', 'put']);
    assert.deepEqual(kv.put(b('x'), b('2')), { ok: true, rev: 3 });
    assert.deepEqual(all(kv), ['x=2@2/3/v2', 'y=1@2/2/v1']);
    assert.deepEqual(all(kv, 2), ['x=1@2/2/v1', 'y=1@2/2/v1']);
  } finally {
    void be.close().then(db.cleanup);
  }
});

test('a read right after a write sees it before and after the backend commit', async () => {
  const db = tempDb();
  const be = Backend.open({ path: db.path });
  try {
    const kv = KvStore.open(be);
    kv.put(b('k'), b('v1'));
    be.setConsistentIndex(1);
    const committing = kv.commit();
    kv.put(b('k'), b('v2'));
    assert.deepEqual(all(kv), ['k=v2@2/3/v2']);
    assert.deepEqual(all(kv, 2), ['k=v1@2/2/v1']);
    await committing;
    assert.deepEqual(all(kv, 2), ['k=v1@2/2/v1']);
    await kv.commit();
    assert.deepEqual(all(kv), ['k=v2@2/3/v2']);
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('reopening restores index, revisions, compaction and hash identically', async () => {
  const db = tempDb();
  const rand = seededRand(42);
  let be = Backend.open({ path: db.path });
  try {
    let kv = KvStore.open(be);
    for (let i = 0; i < 3000; i++) {
      const key = b(`key-${rand.intn(400)}`);
      const op = rand.intn(10);
      if (op < 7) kv.put(key, b(`v${i}`));
      else if (op < 9) kv.deleteRange(key);
      else {
        const w = kv.write();
        w.put(key, b(`t${i}`));
        w.deleteRange(b(`key-${rand.intn(400)}`));
        w.put(b(`key-${rand.intn(400)}`), b(`u${i}`));
        w.end();
      }
      if (i === 2000) {
        const c = kv.compact(kv.currentRev - 500);
        assert.ok(c.ok);
        while (kv.compactionStep(100));
      }
      if (i % 500 === 0) await kv.commit();
    }
    const before = { rev: kv.currentRev, compact: kv.compactRev, now: all(kv), old: all(kv, kv.currentRev - 300), h: kv.hashByRev(0), bh: kv.hash() };
    await be.close();

    be = Backend.open({ path: db.path });
    kv = KvStore.open(be);
    assert.equal(kv.currentRev, before.rev);
    assert.equal(kv.compactRev, before.compact);
    assert.deepEqual(all(kv), before.now);
    assert.deepEqual(all(kv, before.rev - 300), before.old);
    assert.deepEqual(kv.hashByRev(0), before.h);
    assert.deepEqual(kv.hash(), before.bh);
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('tombstone then recreate resets version and createRevision, count and prevKv follow', () => {
  const db = tempDb();
  const be = Backend.open({ path: db.path });
  try {
    const kv = KvStore.open(be);
    kv.put(b('a'), b('1'));
    kv.put(b('a'), b('2'));
    kv.put(b('b'), b('1'));
    kv.put(b('c'), b('1'));
    const del = kv.deleteRange(b('a'), b('c'), { prevKv: true });
    assert.equal(del.deleted, 2);
    assert.equal(del.rev, 6);
    assert.deepEqual(del.prevKvs?.map((x) => dec.decode(x.value)), ['2', '1']);
    const put = kv.put(b('a'), b('3'), 0n, { prevKv: true });
    assert.ok(put.ok);
    assert.equal(put.prevKv, undefined, 'no previous value after a delete');
    assert.deepEqual(all(kv), ['a=3@7/7/v1', 'c=1@5/5/v1']);
    const count = kv.range(b('a'), ALL, { countOnly: true });
    assert.ok(count.ok && count.count === 2 && count.kvs.length === 0);
    const limited = kv.range(b('a'), ALL, { limit: 1 });
    assert.ok(limited.ok && limited.count === 2 && limited.kvs.length === 1);
  } finally {
    void be.close().then(db.cleanup);
  }
});

test('compaction makes older reads fail and deletes superseded revisions from the backend', async () => {
  const db = tempDb();
  const be = Backend.open({ path: db.path });
  try {
    const kv = KvStore.open(be);
    for (let i = 0; i < 50; i++) kv.put(b(`k${i % 5}`), b(`${i}`));
    kv.deleteRange(b('k4'));
    const revsBefore = be.range(be.bucket('key'), new Uint8Array(0), undefined).keys.length;
    assert.equal(revsBefore, 51);
    const c = kv.compact(kv.currentRev);
    assert.ok(c.ok);
    const r = kv.range(b('k0'), undefined, { rev: kv.currentRev - 1 });
    assert.deepEqual(r.ok ? null : r.code, 'compacted');
    assert.deepEqual(kv.compact(kv.currentRev).ok, false);
    let steps = 0;
    while (kv.compactionStep(10)) {
      steps++;
      await be.commit();
    }
    await c.job.done;
    assert.ok(steps >= 5, `${steps} steps of 10`);
    assert.equal(be.range(be.bucket('key'), new Uint8Array(0), undefined).keys.length, 4, 'one revision per live key');
    assert.deepEqual(all(kv), ['k0=45@2/47/v10', 'k1=46@3/48/v10', 'k2=47@4/49/v10', 'k3=48@5/50/v10']);
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('an unfinished compaction resumes on open', async () => {
  const db = tempDb();
  let be = Backend.open({ path: db.path });
  try {
    let kv = KvStore.open(be);
    for (let i = 0; i < 30; i++) kv.put(b(`k${i % 3}`), b(`${i}`));
    const c = kv.compact(20);
    assert.ok(c.ok);
    kv.compactionStep(5);
    await be.close();

    be = Backend.open({ path: db.path });
    kv = KvStore.open(be);
    assert.equal(kv.compactRev, 20);
    assert.equal(kv.pendingCompaction()?.rev, 20);
    const r = kv.range(b('k0'), undefined, { rev: 19 });
    assert.equal(r.ok ? 'ok' : r.code, 'compacted');
    while (kv.compactionStep(5));
    assert.equal(kv.pendingCompaction(), undefined);
    assert.equal(be.range(be.bucket('key'), new Uint8Array(0), undefined).keys.length, 3 + 11, "three kept at or below 20, revisions 21..31 untouched");
    await be.close();

    be = Backend.open({ path: db.path });
    kv = KvStore.open(be);
    assert.equal(kv.pendingCompaction(), undefined, 'finished compaction is not redone');
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('hashByRev agrees between a member that finished physical compaction and one that did not', async () => {
  const dbs = [tempDb(), tempDb()];
  const bes = dbs.map((d) => Backend.open({ path: d.path }));
  try {
    const kvs = bes.map((be) => KvStore.open(be));
    for (const kv of kvs) {
      for (let i = 0; i < 40; i++) kv.put(b(`k${i % 7}`), b(`${i}`));
      kv.deleteRange(b('k3'));
      kv.put(b('k3'), b('again'));
      assert.ok(kv.compact(30).ok);
    }
    while (kvs[0]!.compactionStep(3));
    const h0 = kvs[0]!.hashByRev(0);
    const h1 = kvs[1]!.hashByRev(0);
    assert.deepEqual(h0, h1);
    assert.ok(h0.ok && h0.compactRev === 30 && h0.currentRev === 43);
    assert.deepEqual(kvs[0]!.hashByRev(35), kvs[1]!.hashByRev(35));
    assert.equal(kvs[0]!.hashByRev(20).ok, false);
    assert.equal(kvs[0]!.hashByRev(99).ok, false);
  } finally {
    for (const be of bes) await be.close();
    for (const d of dbs) d.cleanup();
  }
});

test('keys deleted and compacted away leave currentRev at the compaction revision after reopen', async () => {
  const db = tempDb();
  let be = Backend.open({ path: db.path });
  try {
    let kv = KvStore.open(be);
    kv.put(b('a'), b('1'));
    kv.put(b('a'), b('2'));
    kv.deleteRange(b('a'));
    assert.ok(kv.compact(4).ok);
    while (kv.compactionStep());
    assert.equal(be.range(be.bucket('key'), new Uint8Array(0), undefined).keys.length, 0);
    await be.close();
    be = Backend.open({ path: db.path });
    kv = KvStore.open(be);
    assert.equal(kv.currentRev, 4);
    assert.deepEqual(kv.put(b('a'), b('3')), { ok: true, rev: 5 });
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('the lessor hears attach and detach on put and delete, and again on reopen', async () => {
  const db = tempDb();
  let be = Backend.open({ path: db.path });
  try {
    const leases = new KeyLeases();
    const kv = KvStore.open(be, { lessor: leases });
    kv.put(b('a'), b('1'), 5n);
    kv.put(b('b'), b('1'), 5n);
    kv.put(b('c'), b('1'), 6n);
    kv.put(b('a'), b('2'), 7n);
    kv.put(b('b'), b('2'));
    kv.deleteRange(b('c'));
    assert.deepEqual([...leases.byKey], [['a', 7n]]);
    const r = kv.range(b('a'));
    assert.ok(r.ok && r.kvs[0]!.lease === 7n);
    await be.close();

    be = Backend.open({ path: db.path });
    const again = new KeyLeases();
    KvStore.open(be, { lessor: again });
    assert.deepEqual([...again.byKey], [['a', 7n]]);
  } finally {
    await be.close();
    db.cleanup();
  }
});

test('a read transaction keeps reading at the revision it began with', () => {
  const db = tempDb();
  const be = Backend.open({ path: db.path });
  try {
    const kv = KvStore.open(be);
    kv.put(b('a'), b('1'));
    const r = kv.read();
    kv.put(b('a'), b('2'));
    const seen = r.range(b('a'));
    assert.ok(seen.ok && dec.decode(seen.kvs[0]!.value) === '1' && seen.rev === 2);
    const future = r.range(b('a'), undefined, { rev: 3 });
    assert.equal(future.ok ? 'ok' : future.code, 'future-rev');
  } finally {
    void be.close().then(db.cleanup);
  }
});

test('a compaction that deleted everything before it could finish still holds the revision on reopen', async () => {
  const db = tempDb();
  let be = Backend.open({ path: db.path });
  try {
    let kv = KvStore.open(be);
    kv.put(b('a'), b('1'));
    kv.deleteRange(b('a'));
    assert.ok(kv.compact(3).ok);
    // Steps of one revision each, committed, then a stop before the finishing step.
    assert.ok(kv.compactionStep(1));
    await kv.commit();
    assert.ok(kv.compactionStep(1));
    await kv.commit();
    assert.equal(be.range(be.bucket('key'), new Uint8Array(0), undefined).keys.length, 0);
    await be.close();
    be = Backend.open({ path: db.path });
    kv = KvStore.open(be);
    assert.equal(kv.currentRev, 3);
    assert.deepEqual(kv.put(b('a'), b('2')), { ok: true, rev: 4 });
  } finally {
    await be.close();
    db.cleanup();
  }
});
