import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../api/codec.js';
import * as pb from '../api/gen/etcdserverpb.js';
import { EtcdServer } from '../server/etcd-server.js';
import { quietLogger, tempDir, testConfig } from '../server/test-member.js';
import { createGrpcServer } from './grpc-server.js';

type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse> };

const enc = new TextEncoder();
let member: EtcdServer;
let server: grpc.Server;
let client: WatchClient;

before(async () => {
  const logger = quietLogger();
  member = await EtcdServer.start(testConfig(tempDir()), logger);
  await member.readyNotify();
  server = createGrpcServer(member, { logger, maxRequestBytes: 4096, watchProgressNotifyIntervalMs: 200 });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const Ctor = grpc.makeGenericClientConstructor(grpcServices.Watch, grpcServiceNames.Watch);
  client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as WatchClient;
});

after(async () => {
  client.close();
  server.forceShutdown();
  await member.stop();
});

/** A watch stream whose responses queue up for `next()`. */
function open(): { stream: grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>; next: (ms?: number) => Promise<pb.WatchResponse> } {
  const stream = client.Watch();
  const queue: pb.WatchResponse[] = [];
  let wake: (() => void) | undefined;
  stream.on('data', (r: pb.WatchResponse) => {
    queue.push(r);
    wake?.();
  });
  stream.on('error', () => undefined);
  const next = async (ms = 3000): Promise<pb.WatchResponse> => {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (Date.now() > deadline) throw new Error('no watch response in time');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 20);
      });
    }
    return queue.shift()!;
  };
  return { stream, next };
}

function create(init: Partial<pb.WatchCreateRequest>): pb.WatchRequest {
  return pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest(init) });
}

async function put(key: string, value: string): Promise<number> {
  return (await member.put(pb.createPutRequest({ key: enc.encode(key), value: enc.encode(value) }))).header!.revision;
}

test('a created watcher gets created: true with the header revision, then its events', async () => {
  const { stream, next } = open();
  try {
    const rev = member.kv.currentRev;
    stream.write(create({ key: enc.encode('a'), watchId: 7, prevKv: true }));
    const created = await next();
    assert.equal(created.created, true);
    assert.equal(created.watchId, 7);
    assert.equal(created.header?.revision, rev);
    await put('a', '1');
    const r2 = await put('a', '2');
    await next();
    const ev = await next();
    assert.equal(ev.header?.revision, r2);
    assert.equal(new TextDecoder().decode(ev.events[0]!.prevKv!.value), '1');
  } finally {
    stream.cancel();
  }
});

test('a duplicate watch ID is refused with canceled and etcd\'s reason; cancel answers canceled', async () => {
  const { stream, next } = open();
  try {
    stream.write(create({ key: enc.encode('d'), watchId: 3 }));
    assert.equal((await next()).created, true);
    stream.write(create({ key: enc.encode('d'), watchId: 3 }));
    const dup = await next();
    assert.deepEqual([dup.created, dup.canceled, dup.watchId, dup.cancelReason], [true, true, -1, 'mvcc: duplicate watch ID provided on the WatchStream']);
    stream.write(pb.createWatchRequest({ cancelRequest: { watchId: 3 } }));
    const c = await next();
    assert.deepEqual([c.canceled, c.watchId], [true, 3]);
  } finally {
    stream.cancel();
  }
});

test('a start revision that was compacted answers compact_revision and cancels the watcher', async () => {
  await put('c', '1');
  const rev = await put('c', '2');
  await member.compact(pb.createCompactionRequest({ revision: rev }));
  const { stream, next } = open();
  try {
    stream.write(create({ key: enc.encode('c'), startRevision: 1 }));
    assert.equal((await next()).created, true);
    const r = await next();
    assert.equal(r.canceled, true);
    assert.equal(r.compactRevision, rev);
  } finally {
    stream.cancel();
  }
});

test('progress requests and progress_notify send empty responses at the current revision', async () => {
  const { stream, next } = open();
  try {
    stream.write(create({ key: enc.encode('p'), progressNotify: true }));
    await next();
    stream.write(pb.createWatchRequest({ progressRequest: {} }));
    const all = await next();
    assert.deepEqual([all.watchId, all.events.length, all.header?.revision], [-1, 0, member.kv.currentRev]);
    const tick = await next(2000);
    assert.deepEqual([tick.watchId, tick.events.length], [0, 0]);
  } finally {
    stream.cancel();
  }
});

test('a fragmenting watcher gets a large revision split below the max request size', async () => {
  const { stream, next } = open();
  try {
    stream.write(create({ key: enc.encode('f/'), rangeEnd: enc.encode('f0'), fragment: true }));
    await next();
    const value = 'x'.repeat(1000);
    const ops = Array.from({ length: 12 }, (_, i) => ({ requestPut: pb.createPutRequest({ key: enc.encode(`f/${i}`), value: enc.encode(value) }) }));
    await member.txn(pb.createTxnRequest({ success: ops }));
    let events = 0;
    let parts = 0;
    for (;;) {
      const r = await next();
      parts++;
      events += r.events.length;
      assert.ok(pb.WatchResponse.encode(r).length < 4096 + 200);
      if (!r.fragment) break;
    }
    assert.equal(events, 12);
    assert.ok(parts >= 3, `${parts} parts`);
  } finally {
    stream.cancel();
  }
});

test('a watcher from an old revision catches up from history in order, then follows (figure printed)', async () => {
  const start = (await put('h', 'start')) + 1;
  const n = 5000;
  const ops = [];
  for (let i = 0; i < n; i++) ops.push(member.put(pb.createPutRequest({ key: enc.encode(`h/${i % 50}`), value: enc.encode(String(i)) })));
  await Promise.all(ops);
  const { stream, next } = open();
  try {
    const t0 = performance.now();
    stream.write(create({ key: enc.encode('h/'), rangeEnd: enc.encode('h0'), startRevision: start }));
    await next();
    let seen = 0;
    let last = 0;
    while (seen < n) {
      const r = await next();
      for (const ev of r.events) {
        assert.ok(ev.kv!.modRevision > last);
        last = ev.kv!.modRevision;
        seen++;
      }
    }
    const ms = performance.now() - t0;
    process.stdout.write(`# watch catch-up: ${n} events in ${ms.toFixed(0)} ms (${Math.round((n / ms) * 1000)} events/s)\n`);
    assert.equal(seen, n);
  } finally {
    stream.cancel();
  }
});
