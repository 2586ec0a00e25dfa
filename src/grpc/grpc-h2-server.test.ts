// Every kind of call through the HTTP/2 gRPC edge, driven by grpc-js against a real member:
// unary KV calls, Watch and LeaseKeepAlive streams, Maintenance.Snapshot (server streaming with
// back-pressure), and handler errors with etcd's codes and texts (each checked against etcd 3.4).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import type { EtcdServer } from '../server/etcd-server.js';
import type { EtcdServerApi } from '../server/server-api.js';
import type { WatchApi, WatchStreamApi } from '../server/watch-api.js';
import { eventually, serviceClient, sleep, startTestEdge, unary, type ServiceClient, type TestEdge } from './h2-test-edge.js';

const enc = new TextEncoder();
const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString();

/** What the instrumented view of the member saw. */
const seen = {
  /** Snapshot chunks the edge pulled from the member's stream, and their bytes. */
  snapshotChunks: 0,
  snapshotBytes: 0,
  /** Watch streams the edge opened, and how many of them were closed. */
  watchStreams: 0,
  watchStreamsClosed: 0,
};

/** The member, with its snapshot source and watch streams counted. */
function instrumented(member: EtcdServer): EtcdServerApi {
  const watch: WatchApi = {
    newWatchStream(): WatchStreamApi {
      const stream = member.watch.newWatchStream();
      seen.watchStreams++;
      const close = stream.close.bind(stream);
      stream.close = () => {
        seen.watchStreamsClosed++;
        close();
      };
      return stream;
    },
    watchHeader: (rev) => member.watch.watchHeader(rev),
    kickSync: () => member.watch.kickSync(),
  };
  async function* snapshot(req: pb.SnapshotRequest): AsyncGenerator<pb.SnapshotResponse> {
    for await (const chunk of member.snapshot(req)) {
      seen.snapshotChunks++;
      seen.snapshotBytes += chunk.blob.length;
      yield chunk;
    }
  }
  return new Proxy(member, {
    get(target, prop) {
      if (prop === 'watch') return watch;
      if (prop === 'snapshot') return snapshot;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let t: TestEdge;
let kv: ServiceClient;
let lease: ServiceClient;
let watch: ServiceClient;
let maintenance: ServiceClient;

before(async () => {
  t = await startTestEdge({ flags: ['--max-request-bytes=2097152'], serve: instrumented });
  kv = serviceClient('KV', t.address);
  lease = serviceClient('Lease', t.address);
  watch = serviceClient('Watch', t.address);
  maintenance = serviceClient('Maintenance', t.address);
});

after(async () => {
  for (const c of [kv, lease, watch, maintenance]) c.close();
  await t.close();
});

async function put(key: string, value: string | Uint8Array, leaseId = 0n): Promise<number> {
  const { res, err } = await unary<pb.PutResponse>(kv, 'Put', pb.createPutRequest({ key: enc.encode(key), value: typeof value === 'string' ? enc.encode(value) : value, lease: leaseId }));
  assert.equal(err, undefined);
  return res!.header!.revision;
}

test('unary Put, Range and Txn reach the member and answer with its responses', async () => {
  const rev = await put('unary/a', 'v1');
  const got = await unary<pb.RangeResponse>(kv, 'Range', pb.createRangeRequest({ key: enc.encode('unary/a') }));
  assert.equal(got.err, undefined);
  assert.equal(got.res!.count, 1);
  assert.equal(text(got.res!.kvs[0]!.value), 'v1');
  assert.equal(got.res!.kvs[0]!.modRevision, rev);
  assert.equal(got.res!.header!.memberId, t.member.memberId);

  const txn = pb.createTxnRequest({
    compare: [pb.createCompare({ key: enc.encode('unary/a'), target: pb.Compare_CompareTarget.VALUE, result: pb.Compare_CompareResult.EQUAL, value: enc.encode('v1') })],
    success: [pb.createRequestOp({ requestPut: pb.createPutRequest({ key: enc.encode('unary/a'), value: enc.encode('v2') }) })],
    failure: [pb.createRequestOp({ requestRange: pb.createRangeRequest({ key: enc.encode('unary/a') }) })],
  });
  const first = await unary<pb.TxnResponse>(kv, 'Txn', txn);
  assert.equal(first.err, undefined);
  assert.equal(first.res!.succeeded, true);
  assert.equal(first.res!.header!.revision, rev + 1);
  const second = await unary<pb.TxnResponse>(kv, 'Txn', txn);
  assert.equal(second.res!.succeeded, false);
  assert.equal(text(second.res!.responses[0]!.responseRange!.kvs[0]!.value), 'v2');
});

// etcd 3.4 answers each of these with the same code and text (recorded with grpc-js against it).
test('handler errors arrive with etcd\'s code and text: lease not found, compacted and future revisions', async () => {
  const missing = 0x75bcd15n;
  const revoke = await unary(lease, 'LeaseRevoke', pb.createLeaseRevokeRequest({ ID: missing }));
  assert.deepEqual([revoke.err?.code, revoke.err?.details], [grpc.status.NOT_FOUND, 'etcdserver: requested lease not found']);
  const putLease = await unary(kv, 'Put', pb.createPutRequest({ key: enc.encode('x'), value: enc.encode('y'), lease: missing }));
  assert.deepEqual([putLease.err?.code, putLease.err?.details], [grpc.status.NOT_FOUND, 'etcdserver: requested lease not found']);

  const r1 = await put('errors/k', '1');
  const r2 = await put('errors/k', '2');
  assert.equal((await unary(kv, 'Compact', pb.createCompactionRequest({ revision: r2 }))).err, undefined);
  const compacted = await unary(kv, 'Range', pb.createRangeRequest({ key: enc.encode('errors/k'), revision: r1 }));
  assert.deepEqual([compacted.err?.code, compacted.err?.details], [grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted']);
  const again = await unary(kv, 'Compact', pb.createCompactionRequest({ revision: r1 }));
  assert.deepEqual([again.err?.code, again.err?.details], [grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted']);
  const future = await unary(kv, 'Range', pb.createRangeRequest({ key: enc.encode('errors/k'), revision: r2 + 1000 }));
  assert.deepEqual([future.err?.code, future.err?.details], [grpc.status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision']);
  const empty = await unary(kv, 'Range', pb.createRangeRequest());
  assert.deepEqual([empty.err?.code, empty.err?.details], [grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided']);
});

// ---- Watch ----

type WatchCall = grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>;

/** A watch stream whose responses queue up for `next()`, and its final status once it ends. */
function openWatch(): { call: WatchCall; next: () => Promise<pb.WatchResponse>; status: () => grpc.StatusObject | undefined } {
  const call = (watch.Watch as () => WatchCall)();
  const queue: pb.WatchResponse[] = [];
  let status: grpc.StatusObject | undefined;
  call.on('data', (r: pb.WatchResponse) => queue.push(r));
  call.on('status', (s: grpc.StatusObject) => (status = s));
  call.on('error', () => undefined);
  const next = async (): Promise<pb.WatchResponse> => {
    await eventually(() => queue.length > 0, 'a watch response');
    return queue.shift()!;
  };
  return { call, next, status: () => status };
}

const createWatch = (key: string, init: Partial<pb.WatchCreateRequest> = {}): pb.WatchRequest =>
  pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest({ key: enc.encode(key), ...init }) });

test('a watch stream creates a watcher, delivers its events in order, and cancels it on request', async () => {
  const w = openWatch();
  try {
    w.call.write(createWatch('watch/a', { prevKv: true }));
    const created = await w.next();
    assert.equal(created.created, true);
    const id = created.watchId;
    const r1 = await put('watch/a', '1');
    const r2 = await put('watch/a', '2');
    const events: pb.WatchResponse[] = [await w.next()];
    if (events[0]!.events.length < 2) events.push(await w.next());
    const all = events.flatMap((r) => r.events);
    assert.deepEqual(
      all.map((e) => [e.kv!.modRevision, text(e.kv!.value), text(e.prevKv?.value)]),
      [
        [r1, '1', ''],
        [r2, '2', '1'],
      ],
    );
    w.call.write(pb.createWatchRequest({ cancelRequest: pb.createWatchCancelRequest({ watchId: id }) }));
    const canceled = await w.next();
    assert.deepEqual([canceled.canceled, canceled.watchId], [true, id]);
    await put('watch/a', '3');
    await sleep(100);
    w.call.write(createWatch('watch/b'));
    const next = await w.next();
    assert.equal(next.created, true, 'nothing more came for the cancelled watcher');
  } finally {
    w.call.cancel();
  }
});

test('a watch stream stays open after the client half-closes, and still delivers events (as etcd\'s does)', async () => {
  const w = openWatch();
  try {
    w.call.write(createWatch('halfclose/k'));
    assert.equal((await w.next()).created, true);
    w.call.end();
    await sleep(100);
    const rev = await put('halfclose/k', 'v');
    const ev = await w.next();
    assert.equal(ev.events[0]?.kv?.modRevision, rev);
    assert.equal(w.status(), undefined, 'the server did not end the stream');
  } finally {
    w.call.cancel();
  }
});

test('a client cancelling a watch stream closes its member watch stream; the edge keeps serving', async () => {
  const opened = seen.watchStreams;
  const closed = seen.watchStreamsClosed;
  const w = openWatch();
  w.call.write(createWatch('cancel/k'));
  assert.equal((await w.next()).created, true);
  assert.equal(seen.watchStreams, opened + 1);
  w.call.cancel();
  await eventually(() => seen.watchStreamsClosed === closed + 1, 'the member watch stream closed');
  await eventually(() => w.status() !== undefined, 'the client saw its call end');
  assert.equal(w.status()?.code, grpc.status.CANCELLED);
  const other = openWatch();
  try {
    other.call.write(createWatch('cancel/k'));
    assert.equal((await other.next()).created, true);
    await put('cancel/k', 'after');
    assert.equal(text((await other.next()).events[0]?.kv?.value), 'after');
  } finally {
    other.call.cancel();
  }
});

test('a watch from a compacted revision is cancelled with the compact revision', async () => {
  const r1 = await put('wcompact/k', '1');
  const r2 = await put('wcompact/k', '2');
  assert.equal((await unary(kv, 'Compact', pb.createCompactionRequest({ revision: r2 }))).err, undefined);
  const w = openWatch();
  try {
    w.call.write(createWatch('wcompact/k', { startRevision: r1 }));
    assert.equal((await w.next()).created, true);
    const cancelled = await w.next();
    assert.deepEqual([cancelled.canceled, cancelled.compactRevision], [true, r2]);
  } finally {
    w.call.cancel();
  }
});

// ---- LeaseKeepAlive ----

test('LeaseKeepAlive answers each request in order (TTL 0 for an unknown lease) and ends OK after the client half-closes', async () => {
  const granted = await unary<pb.LeaseGrantResponse>(lease, 'LeaseGrant', pb.createLeaseGrantRequest({ TTL: 30 }));
  assert.equal(granted.err, undefined);
  const id = granted.res!.ID;
  const call = (lease.LeaseKeepAlive as () => grpc.ClientDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>)();
  const answers: [bigint, number][] = [];
  call.on('data', (r: pb.LeaseKeepAliveResponse) => answers.push([r.ID, r.TTL]));
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.write(pb.createLeaseKeepAliveRequest({ ID: id }));
  call.write(pb.createLeaseKeepAliveRequest({ ID: 0x75bcd15n }));
  call.write(pb.createLeaseKeepAliveRequest({ ID: id }));
  await eventually(() => answers.length === 3, 'three keep-alive answers');
  call.end();
  assert.deepEqual(answers, [
    [id, 30],
    [0x75bcd15n, 0],
    [id, 30],
  ]);
  const end = await status;
  assert.deepEqual([end.code, end.details], [grpc.status.OK, '']);
});

// ---- Maintenance.Snapshot ----

type SnapshotCall = grpc.ClientReadableStream<pb.SnapshotResponse>;

/** The value of `read()` once it stopped changing (the same over 200 ms); fails when it keeps changing for 10 s. */
async function settled(read: () => number): Promise<number> {
  let last = read();
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const now = read();
    if (now === last) return now;
    last = now;
  }
  throw new Error('still changing after 10 s');
}

test('Snapshot streams several MB to a slow reader: the edge stops pulling while the client does not read, then sends it all', async () => {
  const value = Buffer.alloc(1 << 20);
  for (let i = 0; i < 8; i++) {
    value.fill(i + 1);
    await put(`snapshot/${i}`, value);
  }
  const pulledBefore = seen.snapshotBytes;
  const call = (maintenance.Snapshot as (r: pb.SnapshotRequest) => SnapshotCall)(pb.createSnapshotRequest());
  const chunks: pb.SnapshotResponse[] = [];
  const done = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  let onChunk = (): void => undefined;
  call.on('data', (c: pb.SnapshotResponse) => {
    chunks.push(c);
    onChunk();
  });
  // Stop reading after the first chunk: grpc-js stops reading its HTTP/2 stream, the client's
  // flow-control window closes, the edge's queue fills and it stops pulling from the member.
  await new Promise<void>((resolve) => {
    onChunk = () => {
      call.pause();
      resolve();
    };
  });
  onChunk = () => undefined;
  const pulledWhilePaused = (await settled(() => seen.snapshotBytes)) - pulledBefore;
  assert.ok(pulledWhilePaused < 4 << 20, `pulled ${pulledWhilePaused} bytes of an 8 MB+ snapshot while paused`);

  call.resume();
  const status = await done;
  assert.equal(status.code, grpc.status.OK);
  const total = chunks.reduce((n, c) => n + c.blob.length, 0);
  assert.ok(total > 8 << 20, `snapshot of ${total} bytes holds the 8 MB written`);
  assert.equal(seen.snapshotBytes - pulledBefore, total, 'the client got every byte the member produced');
  // Each chunk says what remains; the last is the SHA-256 of everything before it.
  let remaining = total - chunks[chunks.length - 1]!.blob.length;
  const hash = createHash('sha256');
  for (const c of chunks.slice(0, -1)) {
    remaining -= c.blob.length;
    assert.equal(c.remainingBytes, remaining);
    hash.update(c.blob);
  }
  assert.deepEqual(Buffer.from(chunks[chunks.length - 1]!.blob), hash.digest());
});

test('a client cancelling a snapshot stops the member\'s stream; the edge keeps serving', async () => {
  const call = (maintenance.Snapshot as (r: pb.SnapshotRequest) => SnapshotCall)(pb.createSnapshotRequest());
  call.on('error', () => undefined);
  const pulledBefore = seen.snapshotBytes;
  await new Promise<void>((resolve) => call.once('data', () => resolve()));
  call.cancel();
  const pulled = (await settled(() => seen.snapshotBytes)) - pulledBefore;
  assert.ok(pulled < 4 << 20, `pulled ${pulled} bytes of an 8 MB+ snapshot before the cancel stopped it`);
  const got = await unary<pb.RangeResponse>(kv, 'Range', pb.createRangeRequest({ key: enc.encode('snapshot/0') }));
  assert.equal(got.res?.count, 1);
});
