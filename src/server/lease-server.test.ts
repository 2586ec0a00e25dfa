// The member's lease side around a real lessor and store, with the raft indexes and leadership
// set by the test: a leader answers keep-alive and time-to-live only from applied state.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { isRpcError } from '../api/rpctypes/index.js';
import { Backend } from '../backend/backend.js';
import { Lessor } from '../lease/index.js';
import { KvStore } from '../mvcc/index.js';
import { systemClock } from '../pkg/clock.js';
import { LeaseServer } from './lease-server.js';
import { quietLogger, tempDir } from './test-member.js';

const dirs: string[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const b of backends) await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A leader's lease server whose committed and applied indexes the test moves. */
function leaderLeases(): { server: LeaseServer; lessor: Lessor; idx: { committed: number; applied: number } } {
  const dir = tempDir('etcd-ts-lease-server-');
  dirs.push(dir);
  const backend = Backend.open({ path: `${dir}/db`, unsafeNoSync: true });
  backends.push(backend);
  const lessor = Lessor.open(backend, systemClock, { minLeaseTtl: 1 });
  const kv = KvStore.open(backend, { lessor });
  lessor.promote(0);
  const idx = { committed: 1, applied: 1 };
  const server = new LeaseServer({
    lessor,
    kv,
    logger: quietLogger(),
    propose: () => Promise.reject(new Error('no raft here')),
    nextId: () => 1n,
    fill: (h) => h ?? { clusterId: 1n, memberId: 1n, revision: kv.currentRev, raftTerm: 2 },
    whenReady: () => Promise.resolve(),
    memberId: 1n,
    leader: () => 1n,
    isLeader: () => true,
    stopped: () => false,
    requestTimeoutMs: 3000,
    committedIndex: () => idx.committed,
    appliedIndex: () => idx.applied,
  });
  return { server, lessor, idx };
}

test('a leader answers a keep-alive and a time-to-live only once it applied what it committed', async () => {
  const { server, lessor, idx } = leaderLeases();
  // The grant is committed (index 2) but not applied yet: answering now would say "no such lease".
  idx.committed = 2;
  let answered = false;
  const ka = server.leaseKeepAlive(0x42n).then((r) => ((answered = true), r));
  const ttl = server.leaseTimeToLive({ ID: 0x42n, keys: false });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(answered, false, 'the keep-alive waits for the applied index');
  assert.ok(lessor.grant(0x42n, 5).ok);
  idx.applied = 2;
  server.onApplied(2);
  assert.equal((await ka).TTL, 5);
  const t = await ttl;
  assert.equal(t.grantedTTL, 5);
  assert.ok(t.TTL >= 4 && t.TTL <= 5, `remaining ${t.TTL}`);
});

test('a leader whose apply lags more than a second answers etcd\'s applied-index timeout', async () => {
  const { server, idx } = leaderLeases();
  idx.committed = 9;
  const started = Date.now();
  await assert.rejects(server.leaseKeepAlive(0x42n), (err: unknown) => isRpcError(err, 'timeout-wait-applied-index'));
  assert.ok(Date.now() - started >= 900, 'after etcd\'s 1 s applyTimeout');
});

test('a keep-alive whose client went away stops instead of renewing late', async () => {
  const { server, lessor } = leaderLeases();
  assert.ok(lessor.grant(0x7n, 5).ok);
  const before = lessor.lookup(0x7n)!.expiry;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await assert.rejects(server.leaseKeepAlive(0x7n, { aborted: true }));
  assert.equal(lessor.lookup(0x7n)!.expiry, before, 'not renewed');
  const alive = await server.leaseKeepAlive(0x7n);
  assert.equal(alive.TTL, 5);
});
