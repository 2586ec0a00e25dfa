import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../api/codec.js';
import * as pb from '../api/gen/etcdserverpb.js';
import { EtcdServer } from '../server/etcd-server.js';
import { quietLogger, tempDir, testConfig } from '../server/test-member.js';
import { createGrpcServer } from './grpc-server.js';

type Cb<T> = (err: grpc.ServiceError | null, res?: T) => void;
type LeaseClient = grpc.Client & {
  LeaseGrant(req: pb.LeaseGrantRequest, cb: Cb<pb.LeaseGrantResponse>): void;
  LeaseRevoke(req: pb.LeaseRevokeRequest, cb: Cb<pb.LeaseRevokeResponse>): void;
  LeaseTimeToLive(req: pb.LeaseTimeToLiveRequest, cb: Cb<pb.LeaseTimeToLiveResponse>): void;
  LeaseLeases(req: pb.LeaseLeasesRequest, cb: Cb<pb.LeaseLeasesResponse>): void;
  LeaseKeepAlive(): grpc.ClientDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>;
};

const enc = new TextEncoder();
let member: EtcdServer;
let server: grpc.Server;
let client: LeaseClient;

before(async () => {
  const logger = quietLogger();
  member = await EtcdServer.start(testConfig(tempDir()), logger);
  await member.readyNotify();
  server = createGrpcServer(member, { logger, maxRequestBytes: 1 << 20 });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const Ctor = grpc.makeGenericClientConstructor(grpcServices.Lease, grpcServiceNames.Lease);
  client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as LeaseClient;
});

after(async () => {
  client.close();
  server.forceShutdown();
  await member.stop();
});

function unary<Req, Res>(method: (req: Req, cb: Cb<Res>) => void, req: Req): Promise<{ res?: Res; err?: grpc.ServiceError }> {
  return new Promise((resolve) => method.call(client, req, (err, res) => resolve(err ? { err } : { res: res! })));
}

test('grant picks a positive ID when asked for 0, and refuses a taken ID and a too large TTL with etcd\'s errors', async () => {
  const g = await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 30 }));
  assert.ok(g.res!.ID > 0n);
  assert.equal(g.res!.TTL, 30);
  const dup = await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 30, ID: g.res!.ID }));
  assert.deepEqual([dup.err?.code, dup.err?.details], [grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists']);
  const big = await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 9_000_000_001, ID: 77n }));
  assert.deepEqual([big.err?.code, big.err?.details], [grpc.status.OUT_OF_RANGE, 'etcdserver: too large lease TTL']);
  const small = await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 0, ID: 78n }));
  assert.ok(small.res!.TTL >= 1, 'a TTL below the minimum is raised');
});

test('revoke deletes the attached keys in one revision; a missing lease is not found, its TTL -1', async () => {
  const id = 500n;
  await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 60, ID: id }));
  await member.put(pb.createPutRequest({ key: enc.encode('lk/1'), value: enc.encode('v'), lease: id }));
  await member.put(pb.createPutRequest({ key: enc.encode('lk/2'), value: enc.encode('v'), lease: id }));
  const ttl = await unary(client.LeaseTimeToLive, pb.createLeaseTimeToLiveRequest({ ID: id, keys: true }));
  assert.deepEqual(ttl.res!.keys.map((k) => new TextDecoder().decode(k)), ['lk/1', 'lk/2']);
  assert.equal(ttl.res!.grantedTTL, 60);
  const before = member.kv.currentRev;
  const r = await unary(client.LeaseRevoke, pb.createLeaseRevokeRequest({ ID: id }));
  assert.equal(r.res!.header!.revision, before + 1);
  const rest = await member.range(pb.createRangeRequest({ key: enc.encode('lk/'), rangeEnd: enc.encode('lk0') }));
  assert.equal(rest.count, 0);
  const again = await unary(client.LeaseRevoke, pb.createLeaseRevokeRequest({ ID: id }));
  assert.deepEqual([again.err?.code, again.err?.details], [grpc.status.NOT_FOUND, 'etcdserver: requested lease not found']);
  const gone = await unary(client.LeaseTimeToLive, pb.createLeaseTimeToLiveRequest({ ID: id }));
  assert.equal(gone.res!.TTL, -1);
  await assert.rejects(member.put(pb.createPutRequest({ key: enc.encode('x'), value: enc.encode('v'), lease: id })), /requested lease not found/);
});

test('keep-alive answers each request in order with the TTL, 0 for a missing lease; leases lists them', async () => {
  await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 20, ID: 900n }));
  const stream = client.LeaseKeepAlive();
  const got: pb.LeaseKeepAliveResponse[] = [];
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (r: pb.LeaseKeepAliveResponse) => got.push(r));
    stream.on('end', resolve);
    stream.on('error', () => resolve());
  });
  stream.write({ ID: 900n });
  stream.write({ ID: 901n });
  stream.write({ ID: 900n });
  stream.end();
  await ended;
  assert.deepEqual(
    got.map((r) => [r.ID, r.TTL]),
    [
      [900n, 20],
      [901n, 0],
      [900n, 20],
    ],
  );
  const list = await unary(client.LeaseLeases, pb.createLeaseLeasesRequest());
  assert.ok(list.res!.leases.some((l) => l.ID === 900n));
});

test('an expired lease is revoked by the leader and its keys deleted', async () => {
  const id = 1000n;
  await unary(client.LeaseGrant, pb.createLeaseGrantRequest({ TTL: 1, ID: id }));
  await member.put(pb.createPutRequest({ key: enc.encode('exp'), value: enc.encode('v'), lease: id }));
  const deadline = Date.now() + 5000;
  while (member.lessor.lookup(id) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(member.lessor.lookup(id), undefined);
  assert.equal((await member.range(pb.createRangeRequest({ key: enc.encode('exp') }))).count, 0);
});
