/**
 * Watch fan-out: WATCHERS watchers of one key, spread over STREAMS watch streams on CONNS gRPC
 * connections, then ROUNDS puts of that key one after another; for each put, the time from
 * sending it until the last watcher received its event. Prints one JSON line with the median and
 * worst round in ms. Works against etcd-ts and real etcd alike (etcd's wire protocol).
 *
 * Usage: node dist/bench/watch-fanout.js --endpoint HOST:PORT [--watchers 10000] [--streams 100]
 *        [--conns 10] [--rounds 5]
 */
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../src/api/codec.js';
import * as pb from '../src/api/gen/etcdserverpb.js';

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse> };
type KvClient = grpc.Client & { Put(req: pb.PutRequest, cb: Callback<pb.PutResponse>): void };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const endpoint = arg('endpoint', '127.0.0.1:2379');
const watchers = Number(arg('watchers', '10000'));
const streams = Number(arg('streams', '100'));
const conns = Number(arg('conns', '10'));
const rounds = Number(arg('rounds', '5'));

const creds = grpc.credentials.createInsecure();
const WatchCtor = grpc.makeGenericClientConstructor(grpcServices.Watch, grpcServiceNames.Watch);
const KvCtor = grpc.makeGenericClientConstructor(grpcServices.KV, grpcServiceNames.KV);
// A distinct channel per connection: grpc-js shares one subchannel unless the options differ.
const clients = Array.from({ length: conns }, (_, i) => new WatchCtor(endpoint, creds, { 'grpc.channel_id': i }) as unknown as WatchClient);
const kv = new KvCtor(endpoint, creds) as unknown as KvClient;
const key = new TextEncoder().encode(`/fanout/${process.pid}`);

let created = 0;
let received = 0;
let onEvent: (() => void) | undefined;
const calls: grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>[] = [];
for (let s = 0; s < streams; s++) {
  const call = clients[s % conns]!.Watch();
  calls.push(call);
  call.on('error', () => undefined);
  call.on('data', (r: pb.WatchResponse) => {
    if (r.created) created++;
    if (r.events.length > 0) {
      received += r.events.length;
      onEvent?.();
    }
  });
  const n = Math.floor(watchers / streams) + (s < watchers % streams ? 1 : 0);
  for (let w = 0; w < n; w++) call.write(pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest({ key }) }));
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

if (!(await until(() => created >= watchers, 120_000))) {
  console.error(`only ${created} of ${watchers} watchers were created`);
  process.exit(1);
}
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  received = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  onEvent = () => {
    if (received >= watchers) done();
  };
  const t0 = performance.now();
  kv.Put(pb.createPutRequest({ key, value: new TextEncoder().encode(String(r)) }), () => undefined);
  const timeout = setTimeout(done, 60_000);
  await all;
  clearTimeout(timeout);
  if (received < watchers) {
    console.error(`round ${r}: ${received} of ${watchers} events within 60 s`);
    process.exit(1);
  }
  times.push(performance.now() - t0);
  await new Promise((resolve) => setTimeout(resolve, 200));
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ workload: 'watch-fanout', watchers, streams, conns, rounds, median_ms: Number(times[times.length >> 1]!.toFixed(1)), max_ms: Number(times[times.length - 1]!.toFixed(1)) }));
for (const c of calls) c.cancel();
for (const c of clients) c.close();
kv.close();
