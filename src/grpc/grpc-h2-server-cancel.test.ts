// Unary calls the client gives up on through the HTTP/2 gRPC edge: an explicit cancel and an
// expired deadline both reach the handler as its call state's `cancelled`, the late answer is
// dropped, and the edge keeps serving on the same connection.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import type { EtcdServer } from '../server/etcd-server.js';
import type { CallState, EtcdServerApi } from '../server/server-api.js';
import type { RequestMetadata } from '../server/auth-api.js';
import { eventually, serviceClient, startTestEdge, unary, type ServiceClient, type TestEdge, type UnaryOutcome } from './h2-test-edge.js';

const enc = new TextEncoder();

/** A put held at the gate: its call state as the handler got it, and the release. */
interface HeldPut {
  key: string;
  call: CallState | undefined;
  release(): void;
}

/** Puts of keys under `gate/` wait here until released, then go to the member. */
const held: HeldPut[] = [];

function gated(member: EtcdServer): EtcdServerApi {
  const put = async (req: pb.PutRequest, md?: RequestMetadata, call?: CallState): Promise<pb.PutResponse> => {
    const key = Buffer.from(req.key).toString();
    if (key.startsWith('gate/')) await new Promise<void>((release) => held.push({ key, call, release }));
    return member.put(req, md, call);
  };
  return new Proxy(member, {
    get(target, prop) {
      if (prop === 'put') return put;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let t: TestEdge;
let kv: ServiceClient;

before(async () => {
  t = await startTestEdge({ serve: gated });
  kv = serviceClient('KV', t.address);
});

after(async () => {
  kv.close();
  await t.close();
});

const putReq = (key: string): pb.PutRequest => pb.createPutRequest({ key: enc.encode(key), value: enc.encode('v') });

async function assertServing(): Promise<void> {
  const { err, res } = await unary<pb.PutResponse>(kv, 'Put', putReq('free'));
  assert.equal(err, undefined);
  assert.ok(res!.header!.revision > 0);
}

test('a client cancelling a unary call in flight: the handler sees cancelled, the late answer is dropped, the edge keeps serving', async () => {
  held.length = 0;
  let outcome: { err: grpc.ServiceError | null } | undefined;
  const call = (kv.Put as (r: pb.PutRequest, cb: (err: grpc.ServiceError | null) => void) => grpc.ClientUnaryCall)(putReq('gate/cancel'), (err) => (outcome = { err }));
  await eventually(() => held.length === 1, 'the put reached the handler');
  assert.equal(held[0]!.call?.cancelled, false);
  call.cancel();
  await eventually(() => outcome !== undefined, 'the client saw its call end');
  assert.equal(outcome!.err?.code, grpc.status.CANCELLED);
  await eventually(() => held[0]!.call?.cancelled === true, 'cancelled reached the handler');
  held[0]!.release();
  await assertServing();
});

test('a deadline expiring: the client gets DEADLINE_EXCEEDED, the handler sees cancelled, the edge keeps serving', async () => {
  held.length = 0;
  const late = unary(kv, 'Put', putReq('gate/deadline'), new grpc.Metadata(), { deadline: Date.now() + 200 });
  await eventually(() => held.length === 1, 'the put reached the handler');
  const { err } = await late;
  assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED);
  await eventually(() => held[0]!.call?.cancelled === true, 'cancelled reached the handler');
  held[0]!.release();
  await assertServing();
});

test('many calls in flight on one connection, half cancelled: the others are answered, each with its own result', async () => {
  held.length = 0;
  const calls: { call: grpc.ClientUnaryCall; done: Promise<UnaryOutcome<pb.PutResponse>> }[] = [];
  for (let i = 0; i < 40; i++) {
    let call!: grpc.ClientUnaryCall;
    const done = new Promise<UnaryOutcome<pb.PutResponse>>((resolve) => {
      call = (kv.Put as (r: pb.PutRequest, cb: (err: grpc.ServiceError | null, res?: pb.PutResponse) => void) => grpc.ClientUnaryCall)(putReq(`gate/${i}`), (err, res) =>
        resolve(err !== null ? { err } : { res: res! }),
      );
    });
    calls.push({ call, done });
  }
  await eventually(() => held.length === 40, 'every put reached the handler');
  for (let i = 0; i < 40; i += 2) calls[i]!.call.cancel();
  const byKey = new Map(held.map((h) => [h.key, h]));
  await eventually(() => [...byKey.values()].filter((h) => h.call?.cancelled === true).length === 20, 'the cancelled twenty seen');
  for (const h of held) h.release();
  const outcomes = await Promise.all(calls.map((c) => c.done));
  outcomes.forEach((o, i) => {
    if (i % 2 === 0) assert.equal(o.err?.code, grpc.status.CANCELLED, `call ${i}`);
    else assert.equal(o.err, undefined, `call ${i}`);
  });
  for (let i = 0; i < 40; i++) assert.equal(byKey.get(`gate/${i}`)!.call?.cancelled, i % 2 === 0, `gate/${i}`);
  const revisions = outcomes.filter((o) => o.res !== undefined).map((o) => o.res!.header!.revision);
  assert.equal(new Set(revisions).size, 20, 'each answered put has its own revision');
  await assertServing();
});
