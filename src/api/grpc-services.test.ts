import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as etcdserverpb from './gen/etcdserverpb.js';
import * as mvccpb from './gen/mvccpb.js';
import { grpcServiceNames, grpcServices } from './codec.js';
import { rpcError, specFromStatus, toServiceError } from './rpctypes/index.js';

const MEMBER = 0xffffffffffffffffn;
const LEASE = 0x7fffffffffffffffn;

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;
interface KvClient extends grpc.Client {
  Range: Unary<etcdserverpb.RangeRequest, etcdserverpb.RangeResponse>;
  put: Unary<etcdserverpb.PutRequest, etcdserverpb.PutResponse>;
}
interface WatchClient extends grpc.Client {
  Watch: () => grpc.ClientDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>;
}

const header = (): etcdserverpb.ResponseHeader => etcdserverpb.createResponseHeader({ clusterId: MEMBER - 1n, memberId: MEMBER, revision: 42, raftTerm: 3 });

async function startServer(): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(grpcServices.KV, {
    Range: (call: grpc.ServerUnaryCall<etcdserverpb.RangeRequest, etcdserverpb.RangeResponse>, cb: grpc.sendUnaryData<etcdserverpb.RangeResponse>) => {
      if (call.request.revision === 1) {
        cb(toServiceError(rpcError('compacted')));
        return;
      }
      const kv = mvccpb.createKeyValue({ key: call.request.key, value: Buffer.from('v'), createRevision: 5, modRevision: 42, version: 2, lease: LEASE });
      cb(null, etcdserverpb.createRangeResponse({ header: header(), kvs: [kv], count: 1 }));
    },
    Put: (call: grpc.ServerUnaryCall<etcdserverpb.PutRequest, etcdserverpb.PutResponse>, cb: grpc.sendUnaryData<etcdserverpb.PutResponse>) => {
      cb(null, etcdserverpb.createPutResponse({ header: etcdserverpb.createResponseHeader({ memberId: call.request.lease, revision: 43 }) }));
    },
    DeleteRange: () => undefined,
    Txn: () => undefined,
    Compact: () => undefined,
  });
  server.addService(grpcServices.Watch, {
    Watch: (call: grpc.ServerDuplexStream<etcdserverpb.WatchRequest, etcdserverpb.WatchResponse>) => {
      call.on('data', (req: etcdserverpb.WatchRequest) => {
        if (req.createRequest !== undefined) {
          call.write(etcdserverpb.createWatchResponse({ header: header(), watchId: req.createRequest.watchId, created: true }));
        } else if (req.cancelRequest !== undefined) {
          call.write(etcdserverpb.createWatchResponse({ header: header(), watchId: req.cancelRequest.watchId, canceled: true }));
          call.end();
        }
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, address: `127.0.0.1:${port}` };
}

test('etcd services run on grpc-js: unary calls, bidi streams and catalogued errors cross the wire exactly', async () => {
  const { server, address } = await startServer();
  const KvCtor = grpc.makeGenericClientConstructor(grpcServices.KV, grpcServiceNames.KV);
  const WatchCtor = grpc.makeGenericClientConstructor(grpcServices.Watch, grpcServiceNames.Watch);
  const kv = new KvCtor(address, grpc.credentials.createInsecure()) as unknown as KvClient;
  const watch = new WatchCtor(address, grpc.credentials.createInsecure()) as unknown as WatchClient;
  try {
    const call = <Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> =>
      new Promise((resolve, reject) => fn.call(kv, req, (err, res) => (err ? reject(err) : resolve(res!))));

    const range = await call(kv.Range, etcdserverpb.createRangeRequest({ key: Buffer.from('foo') }));
    assert.equal(range.header?.memberId, MEMBER);
    assert.equal(range.header?.clusterId, MEMBER - 1n);
    assert.equal(range.kvs[0].lease, LEASE);
    assert.equal(Buffer.from(range.kvs[0].key).toString(), 'foo');

    // The lowerCamel alias (originalName) works too, and the request's ID arrives exact.
    const put = await call(kv.put, etcdserverpb.createPutRequest({ key: Buffer.from('k'), lease: MEMBER - 7n }));
    assert.equal(put.header?.memberId, MEMBER - 7n);

    const err = await call(kv.Range, etcdserverpb.createRangeRequest({ key: Buffer.from('foo'), revision: 1 })).then(
      () => assert.fail('expected an error'),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(err.code, grpc.status.OUT_OF_RANGE);
    assert.equal(err.details, 'etcdserver: mvcc: required revision has been compacted');
    assert.equal(specFromStatus(err)?.code, 'compacted');

    const stream = watch.Watch();
    const got: etcdserverpb.WatchResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: etcdserverpb.WatchResponse) => got.push(r));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(etcdserverpb.createWatchRequest({ createRequest: etcdserverpb.createWatchCreateRequest({ key: Buffer.from('a'), watchId: 7 }) }));
    stream.write(etcdserverpb.createWatchRequest({ cancelRequest: etcdserverpb.createWatchCancelRequest({ watchId: 7 }) }));
    stream.end();
    await done;
    assert.deepEqual(got.map((r) => [r.watchId, r.created, r.canceled]), [[7, true, false], [7, false, true]]);
    assert.equal(got[0].header?.memberId, MEMBER);
  } finally {
    kv.close();
    watch.close();
    server.forceShutdown();
  }
});
