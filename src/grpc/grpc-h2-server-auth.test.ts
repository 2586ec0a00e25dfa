// Call metadata through the HTTP/2 gRPC edge: the auth token reaches unary and streaming
// handlers, and a key sent more than once keeps its values in order (etcd reads a token's
// first). Expected answers recorded from etcd 3.4.23 with the same requests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Permission_Type, createPermission } from '../api/gen/authpb.js';
import * as pb from '../api/gen/etcdserverpb.js';
import { eventually, serviceClient, startTestEdge, unary, type ServiceClient, type TestEdge } from './h2-test-edge.js';

const enc = new TextEncoder();
let t: TestEdge;
let kv: ServiceClient;
let auth: ServiceClient;
let watch: ServiceClient;
let maintenance: ServiceClient;
/** Tokens of root and of user `u` (read-write on [k, l)). */
let rootToken: string;
let userToken: string;

/** Metadata holding each `[key, value]` in order. */
function md(...pairs: [string, string | Buffer][]): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of pairs) m.add(k, v);
  return m;
}

async function ok(call: Promise<{ err?: grpc.ServiceError }>, what: string): Promise<void> {
  const { err } = await call;
  assert.equal(err, undefined, `${what}: ${err?.details}`);
}

before(async () => {
  t = await startTestEdge();
  kv = serviceClient('KV', t.address);
  auth = serviceClient('Auth', t.address);
  watch = serviceClient('Watch', t.address);
  maintenance = serviceClient('Maintenance', t.address);
  await ok(unary(auth, 'UserAdd', pb.createAuthUserAddRequest({ name: 'root', password: 'rootpw' })), 'add root');
  await ok(unary(auth, 'RoleAdd', pb.createAuthRoleAddRequest({ name: 'root' })), 'add role root');
  await ok(unary(auth, 'UserGrantRole', pb.createAuthUserGrantRoleRequest({ user: 'root', role: 'root' })), 'grant root');
  await ok(unary(auth, 'UserAdd', pb.createAuthUserAddRequest({ name: 'u', password: 'upw' })), 'add u');
  await ok(unary(auth, 'RoleAdd', pb.createAuthRoleAddRequest({ name: 'r' })), 'add role r');
  const perm = createPermission({ permType: Permission_Type.READWRITE, key: enc.encode('k'), rangeEnd: enc.encode('l') });
  await ok(unary(auth, 'RoleGrantPermission', pb.createAuthRoleGrantPermissionRequest({ name: 'r', perm })), 'grant permission');
  await ok(unary(auth, 'UserGrantRole', pb.createAuthUserGrantRoleRequest({ user: 'u', role: 'r' })), 'grant r');
  await ok(unary(auth, 'AuthEnable', pb.createAuthEnableRequest()), 'enable auth');
  const root = await unary<pb.AuthenticateResponse>(auth, 'Authenticate', pb.createAuthenticateRequest({ name: 'root', password: 'rootpw' }));
  const user = await unary<pb.AuthenticateResponse>(auth, 'Authenticate', pb.createAuthenticateRequest({ name: 'u', password: 'upw' }));
  rootToken = root.res!.token;
  userToken = user.res!.token;
});

after(async () => {
  for (const c of [kv, auth, watch, maintenance]) c.close();
  await t.close();
});

const putK = (): pb.PutRequest => pb.createPutRequest({ key: enc.encode('k1'), value: enc.encode('v') });

test('a unary call\'s token reaches the handler: with it the call is served, without it or with a bogus one etcd\'s errors come back', async () => {
  await ok(unary(kv, 'Put', putK(), md(['token', userToken])), 'put with a token');
  const none = await unary(kv, 'Put', putK());
  assert.deepEqual([none.err?.code, none.err?.details], [grpc.status.INVALID_ARGUMENT, 'etcdserver: user name is empty']);
  const bogus = await unary(kv, 'Put', putK(), md(['token', 'bogus']));
  assert.deepEqual([bogus.err?.code, bogus.err?.details], [grpc.status.UNAUTHENTICATED, 'etcdserver: invalid auth token']);
  const denied = await unary(kv, 'Put', pb.createPutRequest({ key: enc.encode('a'), value: enc.encode('v') }), md(['token', userToken]));
  assert.deepEqual([denied.err?.code, denied.err?.details], [grpc.status.PERMISSION_DENIED, 'etcdserver: permission denied']);
  const range = await unary<pb.RangeResponse>(kv, 'Range', pb.createRangeRequest({ key: enc.encode('k1') }), md(['token', userToken]));
  assert.equal(range.res?.count, 1);
});

test('a key sent twice keeps both values in order: etcd uses the first token', async () => {
  await ok(unary(kv, 'Put', putK(), md(['token', userToken], ['token', 'bogus'])), 'valid token first');
  const second = await unary(kv, 'Put', putK(), md(['token', 'bogus'], ['token', userToken]));
  assert.deepEqual([second.err?.code, second.err?.details], [grpc.status.UNAUTHENTICATED, 'etcdserver: invalid auth token']);
});

test('the token may come as `authorization` (the gateway\'s name); `token` wins when both are there', async () => {
  await ok(unary(kv, 'Put', putK(), md(['authorization', userToken])), 'authorization');
  const both = await unary(kv, 'Put', putK(), md(['token', 'bogus'], ['authorization', userToken]));
  assert.deepEqual([both.err?.code, both.err?.details], [grpc.status.UNAUTHENTICATED, 'etcdserver: invalid auth token']);
});

test('other metadata, binary values included, does not disturb the token', async () => {
  await ok(unary(kv, 'Put', putK(), md(['x-trace', 'abc'], ['x-blob-bin', Buffer.from([0, 1, 0xff])], ['token', userToken], ['x-trace', 'def'])), 'mixed metadata');
});

test('a Watch stream\'s token reaches its handler: watchers are permitted by the token\'s user', async () => {
  const creates = async (metadata: grpc.Metadata, key: string): Promise<pb.WatchResponse> => {
    const call = (watch.Watch as (m: grpc.Metadata) => grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>)(metadata);
    const got: pb.WatchResponse[] = [];
    call.on('data', (r: pb.WatchResponse) => got.push(r));
    call.on('error', () => undefined);
    call.write(pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest({ key: enc.encode(key) }) }));
    try {
      await eventually(() => got.length > 0, 'a create response');
      return got[0]!;
    } finally {
      call.cancel();
    }
  };
  const permitted = await creates(md(['token', userToken]), 'k1');
  assert.deepEqual([permitted.created, permitted.canceled], [true, false]);
  const outside = await creates(md(['token', userToken]), 'a');
  assert.deepEqual([outside.created, outside.canceled], [true, true]);
  const anonymous = await creates(new grpc.Metadata(), 'k1');
  assert.deepEqual([anonymous.created, anonymous.canceled], [true, true]);
});

test('a Snapshot needs root\'s token: without it etcd\'s status, with it the stream', async () => {
  const first = (metadata: grpc.Metadata): Promise<{ chunk?: pb.SnapshotResponse; status?: grpc.StatusObject }> =>
    new Promise((resolve) => {
      const call = (maintenance.Snapshot as (r: pb.SnapshotRequest, m: grpc.Metadata) => grpc.ClientReadableStream<pb.SnapshotResponse>)(pb.createSnapshotRequest(), metadata);
      call.on('error', () => undefined);
      call.once('data', (chunk: pb.SnapshotResponse) => {
        resolve({ chunk });
        call.cancel();
      });
      call.on('status', (status: grpc.StatusObject) => resolve({ status }));
    });
  const anonymous = await first(new grpc.Metadata());
  assert.deepEqual([anonymous.status?.code, anonymous.status?.details], [grpc.status.UNKNOWN, 'auth: user name is empty']);
  const user = await first(md(['token', userToken]));
  assert.deepEqual([user.status?.code, user.status?.details], [grpc.status.UNKNOWN, 'auth: permission denied']);
  const root = await first(md(['token', rootToken]));
  assert.ok(root.chunk !== undefined && root.chunk.blob.length > 0);
});
