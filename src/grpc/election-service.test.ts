import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import type * as epb from '../api/gen/v3electionpb.js';
import { eventually, grantLease, serviceClient, sleep, startTestEdge, unary, type ServiceClient, type TestEdge } from './h2-test-edge.js';

// Recorded from etcd 3.4.23 through grpc-js; every one comes out as UNKNOWN with the text.
const RECORDED_NOT_LEADER = 'election: not leader';
const RECORDED_NO_LEADER = 'election: no leader';
const RECORDED_MISSING_LEADER = '"leader" field must be provided';
const RECORDED_LEASE_NOT_FOUND = 'etcdserver: requested lease not found';

const enc = new TextEncoder();
const dec = new TextDecoder();
let edge: TestEdge;
let election: ServiceClient;
let lease: ServiceClient;

before(async () => {
  edge = await startTestEdge();
  election = serviceClient('Election', edge.address);
  lease = serviceClient('Lease', edge.address);
});

after(async () => {
  election.close();
  lease.close();
  await edge.close();
});


function campaign(name: string, id: bigint, value: string) {
  return unary<epb.CampaignResponse>(election, 'Campaign', { name: enc.encode(name), lease: id, value: enc.encode(value) });
}

function errOf(o: { err?: grpc.ServiceError }): [number | undefined, string | undefined] {
  return [o.err?.code, o.err?.details];
}

test('Campaign elects at once when nobody leads; Leader and Proclaim see and change the value', async () => {
  const a = await grantLease(lease);
  const none = await unary(election, 'Leader', { name: enc.encode('e1') });
  assert.deepEqual(errOf(none), [grpc.status.UNKNOWN, RECORDED_NO_LEADER]);
  const won = await campaign('e1', a, 'v1');
  const leaderKey = won.res!.leader!;
  assert.deepEqual([dec.decode(leaderKey.name), dec.decode(leaderKey.key), leaderKey.rev, leaderKey.lease], ['e1', `e1/${a.toString(16)}`, won.res!.header!.revision, a]);
  await unary(election, 'Proclaim', { leader: leaderKey, value: enc.encode('v2') });
  const now = await unary<epb.LeaderResponse>(election, 'Leader', { name: enc.encode('e1') });
  assert.deepEqual([dec.decode(now.res!.kv!.value), now.res!.kv!.createRevision], ['v2', leaderKey.rev]);
  const stale = await unary(election, 'Proclaim', { leader: { ...leaderKey, rev: 1 }, value: enc.encode('v3') });
  assert.deepEqual(errOf(stale), [grpc.status.UNKNOWN, RECORDED_NOT_LEADER]);
});

test('a second candidate is elected only once the leader resigns; resigning twice is no error', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  const first = (await campaign('e2', a, 'a')).res!.leader!;
  let elected = false;
  const second = campaign('e2', b, 'b').then((r) => ((elected = true), r));
  await sleep(200);
  assert.equal(elected, false);
  await unary(election, 'Resign', { leader: first });
  const got = await second;
  assert.equal(dec.decode(got.res!.leader!.key), `e2/${b.toString(16)}`);
  const again = await unary<epb.ResignResponse>(election, 'Resign', { leader: first });
  assert.equal(again.err, undefined);
  const now = await unary<epb.LeaderResponse>(election, 'Leader', { name: enc.encode('e2') });
  assert.equal(dec.decode(now.res!.kv!.value), 'b');
});

test('Observe streams the leader now, each proclaimed value, the next leader, and nothing once nobody leads', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  const first = (await campaign('e3', a, 'a1')).res!.leader!;
  const seen: epb.LeaderResponse[] = [];
  const stream = election.Observe({ name: enc.encode('e3') }) as grpc.ClientReadableStream<epb.LeaderResponse>;
  stream.on('data', (r: epb.LeaderResponse) => seen.push(r));
  stream.on('error', () => undefined);
  await eventually(() => seen.length === 1, 'the current leader');
  await unary(election, 'Proclaim', { leader: first, value: enc.encode('a2') });
  await eventually(() => seen.length === 2, 'the proclaimed value');
  const second = campaign('e3', b, 'b1');
  await sleep(100);
  await unary(election, 'Resign', { leader: first });
  await second;
  await eventually(() => seen.length === 3, 'the next leader');
  await unary(lease, 'LeaseRevoke', pb.createLeaseRevokeRequest({ ID: b }));
  await sleep(200);
  assert.deepEqual(
    seen.map((r) => dec.decode(r.kv!.value)),
    ['a1', 'a2', 'b1'],
  );
  assert.equal(seen[1]!.header!.revision, seen[1]!.kv!.modRevision);
  stream.cancel();
});

test('Proclaim and Resign without a leader key, and a missing lease, answer etcd\'s texts', async () => {
  assert.deepEqual(errOf(await unary(election, 'Proclaim', { value: enc.encode('x') })), [grpc.status.UNKNOWN, RECORDED_MISSING_LEADER]);
  assert.deepEqual(errOf(await unary(election, 'Resign', {})), [grpc.status.UNKNOWN, RECORDED_MISSING_LEADER]);
  assert.deepEqual(errOf(await campaign('e4', 0x999n, 'x')), [grpc.status.UNKNOWN, RECORDED_LEASE_NOT_FOUND]);
});

test('a candidate whose client gives up withdraws its key', async () => {
  const [a, b] = [await grantLease(lease), await grantLease(lease)];
  await campaign('e5', a, 'a');
  const gaveUp = await unary(election, 'Campaign', { name: enc.encode('e5'), lease: b, value: enc.encode('b') }, new grpc.Metadata(), { deadline: Date.now() + 300 });
  assert.equal(gaveUp.err?.code, grpc.status.DEADLINE_EXCEEDED);
  const key = enc.encode(`e5/${b.toString(16)}`);
  let count = 1;
  const deadline = Date.now() + 3000;
  while (count !== 0 && Date.now() < deadline) {
    count = (await edge.member.range(pb.createRangeRequest({ key }))).count;
    if (count !== 0) await sleep(20);
  }
  assert.equal(count, 0);
});
