import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Backend } from '../backend/backend.js';
import { keyString } from '../backend/key-string.js';
import { ManualClock } from '../pkg/clock.js';
import { Lessor, type LeaseKeyDeleter } from './lessor.js';
import { LEASE_BUCKET, leaseKey, decodeLease } from './lease-codec.js';
import { MAX_LEASE_TTL, minLeaseTtlSeconds } from './lessor-config.js';

/** A copy of src/mvcc/lease-attacher.ts's LeaseAttacher (tests may not import mvcc either). */
interface LeaseAttacher {
  getLease(key: string): bigint;
  attach(lease: bigint, key: string): void;
  detach(lease: bigint, key: string): void;
}

const START = 1_700_000_000_000;

interface Fixture {
  path: string;
  backend: Backend;
  clock: ManualClock;
  cleanup: () => Promise<void>;
}

function fixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'lessor-'));
  const path = join(dir, 'db');
  const f: Fixture = {
    path,
    backend: Backend.open({ path, unsafeNoSync: true }),
    clock: new ManualClock(START),
    cleanup: async () => {
      await f.backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return f;
}

async function withLessor(fn: (le: Lessor, f: Fixture) => void | Promise<void>, config = {}): Promise<void> {
  const f = fixture();
  try {
    await fn(Lessor.open(f.backend, f.clock, { minLeaseTtl: 2, ...config }), f);
  } finally {
    await f.cleanup();
  }
}

const ks = (s: string): string => keyString(Buffer.from(s, 'latin1'));
const str = (keys: readonly Uint8Array[]): string[] => keys.map((k) => Buffer.from(k).toString('latin1'));

test('grant refuses ID 0, an existing ID and a TTL above 9,000,000,000 s', () =>
  withLessor((le) => {
    assert.deepEqual(le.grant(0n, 10), { ok: false, code: 'lease-not-found' });
    assert.equal(le.grant(1n, 10).ok, true);
    assert.deepEqual(le.grant(1n, 20), { ok: false, code: 'lease-exist' });
    assert.deepEqual(le.grant(2n, MAX_LEASE_TTL + 1), { ok: false, code: 'lease-ttl-too-large' });
    assert.equal(le.grant(3n, MAX_LEASE_TTL).ok, true);
    assert.equal(le.lookup(3n)?.ttl, 9_000_000_000);
    assert.equal(le.lookup(1n)?.ttl, 10, 'the refused regrant left the lease alone');
  }));

test('a TTL below the minimum is raised to it; the minimum is 1.5 election timeouts in whole seconds', () =>
  withLessor(
    (le) => {
      const r = le.grant(1n, 1);
      assert.ok(r.ok);
      assert.equal(r.lease.ttl, 5);
      assert.equal(le.grant(2n, -3).ok && le.lookup(2n)?.ttl, 5);
      assert.equal(le.grant(3n, 6).ok && le.lookup(3n)?.ttl, 6);
      assert.equal(minLeaseTtlSeconds(10, 100), 2);
      assert.equal(minLeaseTtlSeconds(10, 500), 8);
      assert.equal(minLeaseTtlSeconds(5, 100), 1);
      assert.equal(minLeaseTtlSeconds(50, 100), 8);
    },
    { minLeaseTtl: 5 },
  ));

test('only the primary renews and counts down; a follower\'s leases never expire', () =>
  withLessor((le, { clock }) => {
    le.grant(1n, 10);
    assert.equal(le.lookup(1n)?.expiry, Infinity);
    assert.deepEqual(le.renew(1n), { ok: false, code: 'not-primary' });
    clock.advance(60_000);
    assert.deepEqual(le.findExpired(10), [], 'not primary: nothing expires');
    assert.deepEqual(le.timeToLive(1n), { ok: false, code: 'not-primary' });

    le.promote(0);
    assert.equal(le.lookup(1n)?.expiry, clock.now() + 10_000);
    clock.advance(7_000);
    assert.deepEqual(le.renew(1n), { ok: true, ttl: 10, clearCheckpoint: false });
    clock.advance(9_999);
    assert.deepEqual(le.findExpired(10), []);
    clock.advance(1);
    assert.deepEqual(le.findExpired(10), [1n]);
    assert.deepEqual(le.renew(1n), { ok: false, code: 'lease-expired' }, 'a lease being revoked cannot be renewed');
    assert.deepEqual(le.renew(99n), { ok: false, code: 'lease-not-found' });
  }));

test('expired leases are listed soonest first, at most `limit`, and again after the retry interval', () =>
  withLessor((le, { clock }) => {
    le.promote(0);
    le.grant(4n, 30);
    le.grant(1n, 10);
    le.grant(3n, 20);
    le.grant(2n, 10);
    le.grant(5n, 100);
    clock.advance(30_000);
    assert.deepEqual(le.findExpired(3), [1n, 2n, 3n], 'ties by ID');
    assert.deepEqual(le.findExpired(3), [4n]);
    assert.deepEqual(le.findExpired(3), [], 'reported leases wait for their revoke');
    assert.ok(le.revoke(1n).ok);
    assert.ok(le.revoke(3n).ok);
    clock.advance(3_000);
    assert.deepEqual(le.findExpired(10), [2n, 4n], 'revokes that never landed are asked for again');
    assert.deepEqual(le.findExpired(0), []);
  }));

test('revoke removes the lease, its record and its attachments and returns the keys in byte order', () =>
  withLessor((le, { backend }) => {
    le.grant(7n, 10);
    for (const k of ['zeta', 'a', '\xff\x00', 'a\x00', 'B']) assert.equal(le.attach(7n, ks(k)), true);
    assert.notEqual(backend.get(backend.bucket(LEASE_BUCKET), leaseKey(7n)), undefined);
    const r = le.revoke(7n);
    assert.ok(r.ok);
    assert.deepEqual(str(r.keys), ['B', 'a', 'a\x00', 'zeta', '\xff\x00']);
    assert.equal(le.lookup(7n), undefined);
    assert.equal(le.getLease(ks('a')), 0n);
    assert.equal(backend.get(backend.bucket(LEASE_BUCKET), leaseKey(7n)), undefined);
    assert.deepEqual(le.revoke(7n), { ok: false, code: 'lease-not-found' });
  }));

test('the key deleter gets every key in one call while the lease still exists, and its detaches land', () =>
  withLessor((le) => {
    le.grant(1n, 10);
    le.grant(2n, 10);
    le.attach(1n, 'k2');
    le.attach(1n, 'k1');
    le.attach(2n, 'other');
    const calls: string[][] = [];
    const deleter: LeaseKeyDeleter = {
      deleteKeys(keys) {
        calls.push(str(keys));
        // As the mvcc store does for each deleted key.
        for (const k of keys) {
          const key = keyString(k);
          assert.equal(le.getLease(key), 1n);
          assert.equal(le.detach(le.getLease(key), key), true);
        }
      },
    };
    le.setRangeDeleter(deleter);
    assert.ok(le.revoke(1n).ok);
    assert.deepEqual(calls, [['k1', 'k2']]);
    assert.equal(le.getLease('other'), 2n);
    le.grant(3n, 10);
    assert.ok(le.revoke(3n).ok);
    assert.equal(calls.length, 1, 'no call for a lease without keys');
  }));

test('attach and detach keep both directions of the key-lease map; it is a LeaseAttacher', () =>
  withLessor((le) => {
    const attacher: LeaseAttacher = le;
    le.grant(1n, 10);
    le.grant(2n, 10);
    attacher.attach(1n, 'a');
    attacher.attach(1n, 'b');
    assert.equal(attacher.getLease('a'), 1n);
    assert.equal(le.attach(2n, 'a'), true, 'moving a key to another lease');
    assert.deepEqual(le.lookup(1n)?.keys(), ['b']);
    assert.deepEqual(le.lookup(2n)?.keys(), ['a']);
    assert.equal(le.detach(1n, 'a'), true, 'detaching from the wrong lease leaves the key where it is');
    assert.equal(le.getLease('a'), 2n);
    attacher.detach(2n, 'a');
    assert.equal(le.getLease('a'), 0n);
    assert.equal(le.lookup(2n)?.keyCount, 0);
    assert.equal(le.attach(9n, 'c'), false);
    assert.equal(le.detach(9n, 'b'), false);
    assert.equal(le.getLease('c'), 0n);
  }));

test('promote restarts every countdown at TTL + extend, so a failover never cuts a lease short', () =>
  withLessor((le, { clock }) => {
    le.promote(0);
    le.grant(1n, 10);
    clock.advance(9_000);
    const before = le.timeToLive(1n);
    assert.ok(before.ok);
    assert.equal(before.ttl, 1);
    le.demote();
    clock.advance(5_000);
    assert.deepEqual(le.findExpired(10), [], 'demoted: expiries are off');
    le.promote(1_000);
    const after = le.timeToLive(1n);
    assert.ok(after.ok);
    assert.equal(after.ttl, 11);
    assert.equal(after.grantedTtl, 10);
    clock.advance(10_999);
    assert.deepEqual(le.findExpired(10), []);
    clock.advance(1);
    assert.deepEqual(le.findExpired(10), [1n]);
  }));

test('timeToLive truncates remaining seconds toward zero and lists keys in byte order on request', () =>
  withLessor((le, { clock }) => {
    le.promote(0);
    le.grant(1n, 10);
    le.attach(1n, 'b');
    le.attach(1n, 'a');
    clock.advance(2_500);
    const r = le.timeToLive(1n, true);
    assert.ok(r.ok);
    assert.equal(r.ttl, 7);
    assert.deepEqual(str(r.keys), ['a', 'b']);
    assert.deepEqual((le.timeToLive(1n) as { keys: Uint8Array[] }).keys, []);
    clock.advance(8_000);
    const late = le.timeToLive(1n);
    assert.ok(late.ok);
    assert.equal(late.ttl, 0, 'expired by 0.5 s reads as 0, not -0');
    assert.deepEqual(le.timeToLive(5n), { ok: false, code: 'lease-not-found' });
  }));

test('leases() lists soonest expiry first and by ID when not primary', () =>
  withLessor((le) => {
    le.grant(3n, 5);
    le.grant(1n, 50);
    le.grant(2n, 20);
    assert.deepEqual(le.leases().map((l) => l.id), [1n, 2n, 3n]);
    le.promote(0);
    assert.deepEqual(le.leases().map((l) => l.id), [3n, 2n, 1n]);
  }));

test('leases survive a close and reopen with TTL and checkpoint; keys come back through attach', async () => {
  const f = fixture();
  try {
    const le = Lessor.open(f.backend, f.clock, { minLeaseTtl: 2, checkpointing: true });
    le.grant(1n, 100);
    le.grant(-5n, 3);
    le.grant(2n, 600);
    le.checkpoint(2n, 250);
    le.grant(3n, 10);
    le.revoke(3n);
    le.attach(1n, 'k');
    await f.backend.close();

    f.backend = Backend.open({ path: f.path, unsafeNoSync: true });
    const again = Lessor.open(f.backend, f.clock, { minLeaseTtl: 5, checkpointing: true });
    assert.deepEqual(
      again.leases().map((l) => [l.id, l.ttl, l.checkpointedTtl, l.keyCount]),
      [
        [-5n, 5, 0, 0],
        [1n, 100, 0, 0],
        [2n, 600, 250, 0],
      ],
      'negative IDs load too; a TTL below the new minimum is raised',
    );
    assert.equal(again.isPrimary, false);
    again.attach(1n, 'k');
    assert.equal(again.getLease('k'), 1n);
    again.promote(0);
    const ttl = again.timeToLive(2n);
    assert.ok(ttl.ok);
    assert.equal(ttl.ttl, 250, 'the countdown resumes from the checkpoint, not the full TTL');
  } finally {
    await f.cleanup();
  }
});

test('checkpoints: scheduled for leases longer than the interval, due with rounded-up seconds left', () =>
  withLessor(
    (le, { clock, backend }) => {
      le.promote(0);
      le.grant(1n, 600);
      le.grant(2n, 60);
      le.grant(3n, 400);
      assert.deepEqual(le.checkpointsDue(), []);
      clock.advance(299_999);
      assert.deepEqual(le.checkpointsDue(), []);
      clock.advance(501);
      assert.deepEqual(le.checkpointsDue(), [
        { id: 1n, remainingTtl: 300 },
        { id: 3n, remainingTtl: 100 },
      ]);
      assert.deepEqual(le.checkpointsDue(), [], 'popped until the checkpoint is applied');
      // The server proposes them; every member applies them.
      assert.equal(le.checkpoint(1n, 300), true);
      assert.equal(le.checkpoint(3n, 100), true);
      assert.equal(le.checkpoint(42n, 1), false);
      assert.equal(decodeLease(backend.get(backend.bucket(LEASE_BUCKET), leaseKey(1n))!).remainingTtl, 300);

      const renewed = le.renew(1n);
      assert.deepEqual(renewed, { ok: true, ttl: 600, clearCheckpoint: true });
      assert.equal(le.lookup(1n)!.expiry, clock.now() + 600_000, 'a renew counts the full TTL');
      le.checkpoint(1n, 0);
      assert.deepEqual(le.renew(1n), { ok: true, ttl: 600, clearCheckpoint: false });

      // Leader change: the new primary counts from the checkpoint.
      le.demote();
      assert.deepEqual(le.checkpointsDue(), []);
      le.promote(0);
      const t3 = le.timeToLive(3n);
      assert.ok(t3.ok);
      assert.equal(t3.ttl, 100);
    },
    { checkpointing: true, checkpointIntervalMs: 300_000 },
  ));

test('without checkpointing nothing is scheduled and renew asks for no clear', () =>
  withLessor((le, { clock }) => {
    le.promote(0);
    le.grant(1n, 3600);
    le.checkpoint(1n, 100);
    clock.advance(400_000);
    assert.deepEqual(le.checkpointsDue(), []);
    assert.deepEqual(le.renew(1n), { ok: true, ttl: 3600, clearCheckpoint: false });
  }));

test('promote spreads a pile-up so at most 3/4 of the revoke rate expire in any second', () =>
  withLessor(
    (le, { clock }) => {
      for (let i = 1; i <= 20; i++) le.grant(BigInt(i), 10);
      le.grant(100n, 30);
      le.promote(0);
      const now = clock.now();
      const inFirst = le.leases().filter((l) => l.expiry - now < 11_000).length;
      assert.equal(inFirst, 6, 'target 3/4 of 8 per second');
      const offsets = le.leases().map((l) => l.expiry - now);
      assert.deepEqual(offsets.slice(0, 8), [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 11_166, 11_333]);
      assert.equal(offsets.at(-1), 30_000, 'a lease far behind the pile keeps its expiry');
      const perSecond = new Map<number, number>();
      for (const o of offsets) perSecond.set(Math.floor(o / 1000), (perSecond.get(Math.floor(o / 1000)) ?? 0) + 1);
      assert.ok(Math.max(...perSecond.values()) <= 6, `per second: ${JSON.stringify([...perSecond])}`);
      assert.equal(offsets.length, 21);
    },
    { leaseRevokeRate: 8 },
  ));

test('recover reloads from a replaced backend and drops attachments', async () => {
  const f = fixture();
  const g = fixture();
  try {
    const other = Lessor.open(g.backend, g.clock);
    other.grant(9n, 30);
    const le = Lessor.open(f.backend, f.clock);
    le.grant(1n, 10);
    le.attach(1n, 'k');
    le.promote(0);
    le.recover(g.backend);
    assert.deepEqual(le.leases().map((l) => l.id), [9n]);
    assert.equal(le.getLease('k'), 0n);
    assert.equal(le.lookup(9n)?.expiry, f.clock.now() + 30_000, 'a primary counts recovered leases down');
  } finally {
    await f.cleanup();
    await g.cleanup();
  }
});

test('members applying the same operations write identical lease buckets', async () => {
  const a = fixture();
  const b = fixture();
  try {
    const apply = (le: Lessor): void => {
      le.grant(1n, 10);
      le.grant(2n, 700);
      le.checkpoint(2n, 300);
      le.grant(3n, 5);
      le.revoke(3n);
    };
    const leader = Lessor.open(a.backend, a.clock, { checkpointing: true });
    leader.promote(1000);
    apply(leader);
    b.clock.advance(12_345);
    apply(Lessor.open(b.backend, b.clock, { checkpointing: true }));
    assert.equal(a.backend.hash(), b.backend.hash());
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});
