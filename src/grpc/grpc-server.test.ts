import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../api/codec.js';
import * as pb from '../api/gen/etcdserverpb.js';
import { RPC_ERROR_SPECS, type RpcErrorCode, rpcError } from '../api/rpctypes/index.js';
import { createLogger } from '../pkg/logger.js';
import type { EtcdServerApi } from '../server/server-api.js';
import { GRPC_OVERHEAD_BYTES, createGrpcServer } from './grpc-server.js';
import { createGrpcH2Server } from './grpc-h2-server.js';
import { createServer as createNetServer } from 'node:net';

// ---- a small EtcdServerApi whose behaviour each test chooses by the request ----

const MEMBER_ID = 0x8e9e05c52164694dn;
const CLUSTER_ID = 0xcdf818194e3a8c32n;
const header = (revision = 1): pb.ResponseHeader => pb.createResponseHeader({ clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: 2 });
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

/** Snapshot behaviours, chosen by the test before the call. */
interface SnapshotPlan {
  chunks: number;
  chunkBytes: number;
  failAfter?: number;
  /** Set when the source's iterator was closed early (client went away). */
  closed?: boolean;
  /** Set when the source ran to its end. */
  finished?: boolean;
}

class ScriptedServer implements EtcdServerApi {
  readonly limits = { maxRequestBytes: 1024, maxTxnOps: 128 };
  readonly memberId = MEMBER_ID;
  readonly clusterId = CLUSTER_ID;
  snapshotPlan: SnapshotPlan = { chunks: 0, chunkBytes: 0 };

  // Range: the key names what to do. 'err:<code>' rejects with that catalogued error,
  // 'boom' rejects with a plain Error, 'sync-throw' throws before returning a promise.
  range(req: pb.RangeRequest): Promise<pb.RangeResponse> {
    const key = text(req.key);
    if (key === 'sync-throw') throw new TypeError('thrown synchronously');
    if (key.startsWith('err:')) return Promise.reject(rpcError(key.slice(4) as RpcErrorCode));
    if (key === 'boom') return Promise.reject(new Error('backend exploded'));
    if (key === 'boom-utf8') return Promise.reject(new Error('backend explodé: 100% «gone»'));
    return Promise.resolve(pb.createRangeResponse({ header: header(7), count: 1, kvs: [{ key: req.key, value: Buffer.from('v'), createRevision: 3, modRevision: 7, version: 2, lease: 0n }] }));
  }
  async put(req: pb.PutRequest): Promise<pb.PutResponse> {
    return pb.createPutResponse({ header: header(8 + req.value.length) });
  }
  async deleteRange(): Promise<pb.DeleteRangeResponse> {
    return pb.createDeleteRangeResponse({ header: header(), deleted: 2 });
  }
  async txn(): Promise<pb.TxnResponse> {
    return pb.createTxnResponse({ header: header(), succeeded: true });
  }
  async compact(): Promise<pb.CompactionResponse> {
    throw rpcError('compacted');
  }
  async status(): Promise<pb.StatusResponse> {
    return pb.createStatusResponse({ header: header(), version: '3.4.23', leader: MEMBER_ID, dbSize: 20480 });
  }
  async alarm(): Promise<pb.AlarmResponse> {
    return pb.createAlarmResponse({ header: header() });
  }
  async hash(): Promise<pb.HashResponse> {
    return pb.createHashResponse({ header: header(), hash: 1234 });
  }
  async hashKV(): Promise<pb.HashKVResponse> {
    return pb.createHashKVResponse({ header: header(), hash: 99, compactRevision: 1 });
  }
  async defragment(): Promise<pb.DefragmentResponse> {
    return pb.createDefragmentResponse({ header: header() });
  }
  async *snapshot(): AsyncIterable<pb.SnapshotResponse> {
    const plan = this.snapshotPlan;
    try {
      for (let i = 0; i < plan.chunks; i++) {
        if (plan.failAfter === i) throw rpcError('no-leader');
        yield pb.createSnapshotResponse({ header: header(), remainingBytes: (plan.chunks - i - 1) * plan.chunkBytes, blob: Buffer.alloc(plan.chunkBytes, i & 0xff) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      plan.finished = true;
    } finally {
      if (plan.finished !== true && plan.failAfter === undefined) plan.closed = true;
    }
  }
  async moveLeader(): Promise<pb.MoveLeaderResponse> {
    throw rpcError('not-leader');
  }
  async memberList(): Promise<pb.MemberListResponse> {
    return pb.createMemberListResponse({ header: header(), members: [pb.createMember({ ID: MEMBER_ID, name: 'default', peerURLs: ['http://localhost:2380'], clientURLs: ['http://localhost:2379'] })] });
  }
  async memberAdd(): Promise<pb.MemberAddResponse> {
    throw rpcError('peer-url-exist');
  }
  async memberRemove(): Promise<pb.MemberRemoveResponse> {
    throw rpcError('member-not-found');
  }
  async memberUpdate(): Promise<pb.MemberUpdateResponse> {
    throw rpcError('member-not-found');
  }
  async memberPromote(): Promise<pb.MemberPromoteResponse> {
    throw rpcError('member-not-learner');
  }
  async health(): Promise<{ health: boolean; reason: string }> {
    return { health: true, reason: '' };
  }
}

// ---- clients ----

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
type Client = grpc.Client & Record<string, Unary<unknown, unknown>>;

function clientOf(service: keyof typeof grpcServices, address: string, definition?: grpc.ServiceDefinition): Client {
  const Ctor = grpc.makeGenericClientConstructor(definition ?? grpcServices[service], grpcServiceNames[service]);
  return new Ctor(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as unknown as Client;
}

function call<Res>(client: Client, method: string, req: unknown): Promise<{ err: grpc.ServiceError | null; res?: Res }> {
  return new Promise((resolve) => {
    client[method]!(req, (err, res) => resolve({ err, res: res as Res }));
  });
}

// Raw bytes in and out, to send what no codec would produce.
const identity = (b: Buffer): Buffer => b;
const rawKv: grpc.ServiceDefinition = Object.fromEntries(
  Object.entries(grpcServices.KV).map(([name, m]) => [name, { ...m, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity }]),
);

// ---- the server under test ----

const logLines: string[] = [];
const scripted = new ScriptedServer();

/** A gRPC edge serving `scripted` on a local port: its address, and how to stop it. */
interface Edge {
  address: string;
  stop(): void;
}

/** Both edges run the same suite: our own HTTP/2 server (the default) and grpc-js, the fallback. */
const EDGES: { name: string; start(): Promise<Edge> }[] = [
  {
    name: 'own HTTP/2 server',
    async start() {
      const logger = createLogger({ level: 'info', sink: (line) => logLines.push(line), caller: false });
      const edge = createGrpcH2Server(scripted, { logger, maxRequestBytes: scripted.limits.maxRequestBytes });
      const net = createNetServer((socket) => edge.handleConnection(socket, Buffer.alloc(0)));
      await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
      const port = (net.address() as { port: number }).port;
      return {
        address: `127.0.0.1:${port}`,
        stop() {
          edge.close();
          net.close();
        },
      };
    },
  },
  {
    name: 'grpc-js',
    async start() {
      const logger = createLogger({ level: 'info', sink: (line) => logLines.push(line), caller: false });
      const server = createGrpcServer(scripted, { logger, maxRequestBytes: scripted.limits.maxRequestBytes });
      const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
      return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
    },
  },
];

for (const edgeKind of EDGES) {
  describe(edgeKind.name, () => {
    let edge: Edge;
    let address: string;
    let kv: Client;
    let raw: Client;

    before(async () => {
      edge = await edgeKind.start();
      address = edge.address;
      kv = clientOf('KV', address);
      raw = clientOf('KV', address, rawKv);
    });

    after(() => {
      kv.close();
      raw.close();
      edge.stop();
    });

    async function assertRangeWorks(): Promise<void> {
      const { err, res } = await call<pb.RangeResponse>(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('ok') }));
      assert.equal(err, null);
      assert.equal(res?.header?.revision, 7);
      assert.equal(text(res!.kvs[0]!.key), 'ok');
    }

    test('a served request crosses the edge with its response intact', async () => {
      await assertRangeWorks();
      const { err, res } = await call<pb.PutResponse>(kv, 'Put', pb.createPutRequest({ key: Buffer.from('k'), value: Buffer.from('vv') }));
      assert.equal(err, null);
      assert.equal(res?.header?.revision, 10);
      assert.equal(res?.header?.memberId, MEMBER_ID);
    });

    test('every catalogued error reaches the client with etcd\'s code and exact text', async () => {
      for (const spec of RPC_ERROR_SPECS) {
        const { err } = await call(kv, 'Range', pb.createRangeRequest({ key: Buffer.from(`err:${spec.code}`) }));
        assert.ok(err !== null, spec.code);
        assert.equal(err.code, spec.status, spec.code);
        assert.equal(err.details, spec.message, spec.code);
      }
    });

    test('an uncatalogued failure is logged and answered UNKNOWN with its text, as etcd passes Go errors', async () => {
      const before = logLines.length;
      const { err } = await call(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('boom') }));
      assert.equal(err?.code, grpc.status.UNKNOWN);
      assert.equal(err?.details, 'backend exploded');
      const logged = logLines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(logged.length, 1);
      assert.equal(logged[0]!.level, 'error');
      assert.equal(logged[0]!.method, '/etcdserverpb.KV/Range');
      assert.equal(logged[0]!.error, 'backend exploded');
      await assertRangeWorks();
    });

    test('a method that throws instead of rejecting is answered the same way and the server keeps serving', async () => {
      const { err } = await call(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('sync-throw') }));
      assert.equal(err?.code, grpc.status.UNKNOWN);
      assert.equal(err?.details, 'thrown synchronously');
      await assertRangeWorks();
    });

    test('catalogued refusals are not logged at info level', async () => {
      const before = logLines.length;
      await call(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('err:compacted') }));
      assert.equal(logLines.length, before);
    });

    test('a malformed protobuf body gets INTERNAL with grpc-go\'s unmarshalling text, and the server keeps serving', async () => {
      // Field 1 (key, length-delimited) claims 127 bytes and none follow.
      const truncated = await call(raw, 'Range', Buffer.from([0x0a, 0x7f]));
      assert.equal(truncated.err?.code, grpc.status.INTERNAL);
      assert.equal(truncated.err?.details, 'grpc: error unmarshalling request: unexpected EOF');
      // Field number 0 is never valid.
      const tagZero = await call(raw, 'Range', Buffer.from([0x00, 0x01, 0x02]));
      assert.equal(tagZero.err?.code, grpc.status.INTERNAL);
      assert.match(tagZero.err?.details ?? '', /^grpc: error unmarshalling request: /);
      await assertRangeWorks();
    });

    test('a request over max-request-bytes plus the gRPC overhead is refused with grpc-go\'s text, and the next one works', async () => {
      const limit = scripted.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
      const big = Buffer.alloc(limit + 100, 0x61);
      big[0] = 0x0a; // a syntactically plausible start; the size alone must refuse it
      const { err } = await call(raw, 'Put', big);
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(err?.details, `grpc: received message larger than max (${limit + 100} vs. ${limit})`);
      await assertRangeWorks();
      // A request of exactly the limit passes the transport (the server decides about its content).
      const key = Buffer.from('k');
      const framing = pb.PutRequest.encode(pb.createPutRequest({ key, value: Buffer.alloc(limit - 64) })).length - (limit - 64);
      const value = Buffer.alloc(limit - framing, 0x62);
      assert.equal(pb.PutRequest.encode(pb.createPutRequest({ key, value })).length, limit);
      const ok = await call<pb.PutResponse>(kv, 'Put', pb.createPutRequest({ key, value }));
      assert.equal(ok.err, null);
    });

    test('KV, Maintenance and Cluster methods reach their server methods', async () => {
      const maintenance = clientOf('Maintenance', address);
      const cluster = clientOf('Cluster', address);
      try {
        const status = await call<pb.StatusResponse>(maintenance, 'Status', pb.createStatusRequest());
        assert.equal(status.res?.version, '3.4.23');
        assert.equal(status.res?.leader, MEMBER_ID);
        assert.equal((await call<pb.HashResponse>(maintenance, 'Hash', pb.createHashRequest())).res?.hash, 1234);
        assert.equal((await call<pb.HashKVResponse>(maintenance, 'HashKV', pb.createHashKVRequest())).res?.hash, 99);
        assert.equal((await call(maintenance, 'Alarm', pb.createAlarmRequest())).err, null);
        assert.equal((await call(maintenance, 'Defragment', pb.createDefragmentRequest())).err, null);
        assert.equal((await call(maintenance, 'MoveLeader', pb.createMoveLeaderRequest())).err?.details, 'etcdserver: not leader');
        const members = await call<pb.MemberListResponse>(cluster, 'MemberList', pb.createMemberListRequest());
        assert.equal(members.res?.members[0]?.ID, MEMBER_ID);
        assert.deepEqual(members.res?.members[0]?.peerURLs, ['http://localhost:2380']);
        assert.equal((await call(cluster, 'MemberAdd', pb.createMemberAddRequest())).err?.details, 'etcdserver: Peer URLs already exists');
        assert.equal((await call(cluster, 'MemberRemove', pb.createMemberRemoveRequest())).err?.code, grpc.status.NOT_FOUND);
        assert.equal((await call(cluster, 'MemberUpdate', pb.createMemberUpdateRequest())).err?.details, 'etcdserver: member not found');
        assert.equal((await call(cluster, 'MemberPromote', pb.createMemberPromoteRequest())).err?.details, 'etcdserver: can only promote a learner member');
        assert.equal((await call<pb.DeleteRangeResponse>(kv, 'DeleteRange', pb.createDeleteRangeRequest({ key: Buffer.from('a') }))).res?.deleted, 2);
        assert.equal((await call<pb.TxnResponse>(kv, 'Txn', pb.createTxnRequest())).res?.succeeded, true);
        assert.equal((await call(kv, 'Compact', pb.createCompactionRequest({ revision: 1 }))).err?.code, grpc.status.OUT_OF_RANGE);
      } finally {
        maintenance.close();
        cluster.close();
      }
    });

    test('services not served yet (Watch, Lease, Auth) answer UNIMPLEMENTED', async () => {
      const lease = clientOf('Lease', address);
      const auth = clientOf('Auth', address);
      try {
        assert.equal((await call(lease, 'LeaseGrant', pb.createLeaseGrantRequest({ TTL: 5 }))).err?.code, grpc.status.UNIMPLEMENTED);
        assert.equal((await call(auth, 'AuthEnable', pb.createAuthEnableRequest())).err?.code, grpc.status.UNIMPLEMENTED);
      } finally {
        lease.close();
        auth.close();
      }
      const watch = grpc.makeGenericClientConstructor(grpcServices.Watch, grpcServiceNames.Watch);
      const client = new watch(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Watch(): grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse> };
      try {
        const stream = client.Watch();
        const code = await new Promise<number>((resolve) => {
          stream.on('error', (e: grpc.ServiceError) => resolve(e.code));
          stream.on('data', () => undefined);
        });
        assert.equal(code, grpc.status.UNIMPLEMENTED);
      } finally {
        client.close();
      }
    });

    // ---- Maintenance.Snapshot: server streaming ----

    type SnapshotClient = grpc.Client & { Snapshot(req: pb.SnapshotRequest): grpc.ClientReadableStream<pb.SnapshotResponse> };

    function snapshotClient(): SnapshotClient {
      const Ctor = grpc.makeGenericClientConstructor(grpcServices.Maintenance, grpcServiceNames.Maintenance);
      return new Ctor(address, grpc.credentials.createInsecure()) as unknown as SnapshotClient;
    }

    function readAll(stream: grpc.ClientReadableStream<pb.SnapshotResponse>): Promise<{ chunks: pb.SnapshotResponse[]; err?: grpc.ServiceError }> {
      return new Promise((resolve) => {
        const chunks: pb.SnapshotResponse[] = [];
        stream.on('data', (c: pb.SnapshotResponse) => chunks.push(c));
        stream.on('error', (err: grpc.ServiceError) => resolve({ chunks, err }));
        stream.on('end', () => resolve({ chunks }));
      });
    }

    test('snapshot streams every chunk in order, through grpc-js back-pressure', async () => {
      scripted.snapshotPlan = { chunks: 64, chunkBytes: 256 * 1024 };
      const client = snapshotClient();
      try {
        const { chunks, err } = await readAll(client.Snapshot(pb.createSnapshotRequest()));
        assert.equal(err, undefined);
        assert.equal(chunks.length, 64);
        chunks.forEach((c, i) => {
          assert.equal(c.blob.length, 256 * 1024);
          assert.equal(c.blob[0], i);
          assert.equal(c.remainingBytes, (63 - i) * 256 * 1024);
        });
        assert.equal(scripted.snapshotPlan.finished, true);
      } finally {
        client.close();
      }
    });

    test('a snapshot source failing midway ends the stream with etcd\'s status after the chunks sent', async () => {
      scripted.snapshotPlan = { chunks: 5, chunkBytes: 16, failAfter: 2 };
      const client = snapshotClient();
      try {
        const { chunks, err } = await readAll(client.Snapshot(pb.createSnapshotRequest()));
        assert.equal(chunks.length, 2);
        assert.equal(err?.code, grpc.status.UNAVAILABLE);
        assert.equal(err?.details, 'etcdserver: no leader');
      } finally {
        client.close();
      }
      await assertRangeWorks();
    });

    test('a client cancelling a snapshot closes the source early', async () => {
      scripted.snapshotPlan = { chunks: 10_000, chunkBytes: 64 * 1024 };
      const client = snapshotClient();
      try {
        const stream = client.Snapshot(pb.createSnapshotRequest());
        await new Promise<void>((resolve) => {
          let seen = 0;
          stream.on('data', () => {
            if (++seen === 3) {
              stream.cancel();
              resolve();
            }
          });
          stream.on('error', () => undefined);
        });
        for (let i = 0; i < 200 && scripted.snapshotPlan.closed !== true; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(scripted.snapshotPlan.closed, true);
        assert.notEqual(scripted.snapshotPlan.finished, true);
      } finally {
        client.close();
      }
    });

    test('an error text outside printable ASCII reaches the client intact', async () => {
      const { err } = await call(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('boom-utf8') }));
      assert.equal(err?.code, grpc.status.UNKNOWN);
      assert.equal(err?.details, 'backend explodé: 100% «gone»');
    });
  });
}
