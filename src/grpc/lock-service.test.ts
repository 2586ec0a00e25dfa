import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import type * as lockpb from '../api/gen/v3lockpb.js';
import { quietLogger } from '../server/test-member.js';
import { createGrpcServer } from './grpc-server.js';
import { grantLease, serviceClient, sleep, startTestEdge, unary, type ServiceClient, type TestEdge } from './h2-test-edge.js';

// Recorded from etcd 3.4.23 through grpc-js: both come out as UNKNOWN with the text.
const RECORDED_LEASE_NOT_FOUND = 'etcdserver: requested lease not found';
const RECORDED_EMPTY_KEY = 'etcdserver: key is not provided';

const enc = new TextEncoder();
const dec = new TextDecoder();
let edge: TestEdge;
let lock: ServiceClient;
let lease: ServiceClient;

before(async () => {
  edge = await startTestEdge();
  lock = serviceClient('Lock', edge.address);
  lease = serviceClient('Lease', edge.address);
});

after(async () => {
  lock.close();
  lease.close();
  await edge.close();
});


function lockCall(name: string, id: bigint, options: grpc.CallOptions = {}) {
  return unary<lockpb.LockResponse>(lock, 'Lock', { name: enc.encode(name), lease: id }, new grpc.Metadata(), options);
}

test('Lock answers the key name/<lease hex>; a second locker gets the lock only after Unlock', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  const first = await lockCall('mx', a);
  assert.equal(dec.decode(first.res!.key), `mx/${a.toString(16)}`);
  assert.equal(first.res!.header!.revision, edge.member.kv.currentRev);
  let acquired = false;
  const second = lockCall('mx', b).then((r) => ((acquired = true), r));
  await sleep(200);
  assert.equal(acquired, false, 'the second locker waits while the first holds the lock');
  const unlocked = await unary<lockpb.UnlockResponse>(lock, 'Unlock', { key: first.res!.key });
  const got = await second;
  assert.equal(dec.decode(got.res!.key), `mx/${b.toString(16)}`);
  assert.equal(got.res!.header!.revision, unlocked.res!.header!.revision, 'acquired as of the delete that released it');
  await unary(lock, 'Unlock', { key: got.res!.key });
});

test('revoking the holder\'s lease hands the lock to the next waiter', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  await lockCall('rv', a);
  const second = lockCall('rv', b);
  await sleep(100);
  await unary(lease, 'LeaseRevoke', pb.createLeaseRevokeRequest({ ID: a }));
  assert.equal(dec.decode((await second).res!.key), `rv/${b.toString(16)}`);
});

test('locking again under the holding lease re-acquires at once with the same key', async () => {
  const a = await grantLease(lease);
  const first = await lockCall('again', a);
  const again = await lockCall('again', a);
  assert.deepEqual(again.res!.key, first.res!.key);
});

test('a waiter whose client gives up leaves the queue: its key is deleted', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  await lockCall('cx', a);
  const gaveUp = await lockCall('cx', b, { deadline: Date.now() + 300 });
  assert.equal(gaveUp.err?.code, grpc.status.DEADLINE_EXCEEDED);
  const waiterKey = enc.encode(`cx/${b.toString(16)}`);
  await eventuallyAsync(async () => (await edge.member.range(pb.createRangeRequest({ key: waiterKey }))).count === 0, 'the abandoned waiter key is deleted');
});

test('lease 0 locks under a new lease; a missing lease and an empty Unlock key answer etcd\'s texts as UNKNOWN', async () => {
  const fresh = await lockCall('nolease', 0n);
  const id = BigInt(`0x${dec.decode(fresh.res!.key).slice('nolease/'.length)}`);
  const ttl = await unary<pb.LeaseTimeToLiveResponse>(lease, 'LeaseTimeToLive', pb.createLeaseTimeToLiveRequest({ ID: id }));
  assert.equal(ttl.res!.grantedTTL, 60);
  const missing = await lockCall('nolease', 0x1234n);
  assert.deepEqual([missing.err?.code, missing.err?.details], [grpc.status.UNKNOWN, RECORDED_LEASE_NOT_FOUND]);
  const empty = await unary(lock, 'Unlock', { key: new Uint8Array() });
  assert.deepEqual([empty.err?.code, empty.err?.details], [grpc.status.UNKNOWN, RECORDED_EMPTY_KEY]);
});

test('on the grpc-js edge too, a waiter whose client gives up is cancelled and leaves the queue', async () => {
  const server = createGrpcServer(edge.member, { logger: quietLogger(), maxRequestBytes: 1 << 20 });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const viaGrpcJs = serviceClient('Lock', `127.0.0.1:${port}`);
  try {
    const [a, b] = [await grantLease(lease), await grantLease(lease)];
    await lockCall('gj', a);
    const gaveUp = await unary<lockpb.LockResponse>(viaGrpcJs, 'Lock', { name: enc.encode('gj'), lease: b }, new grpc.Metadata(), { deadline: Date.now() + 200 });
    assert.equal(gaveUp.err?.code, grpc.status.DEADLINE_EXCEEDED);
    const waiterKey = enc.encode(`gj/${b.toString(16)}`);
    await eventuallyAsync(async () => (await edge.member.range(pb.createRangeRequest({ key: waiterKey }))).count === 0, 'the abandoned waiter key is deleted');
  } finally {
    viaGrpcJs.close();
    server.forceShutdown();
  }
});

async function eventuallyAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}
