import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startTestEdge, type TestEdge } from './h2-test-edge.js';
import { decodeHealthCheckRequest, encodeHealthCheckRequest, healthServiceDefinition, ServingStatus, type HealthCheckResponse } from './health-service.js';

// Recorded from etcd 3.4.23 through grpc-js: Check of any name but "" is NOT_FOUND with this text.
const RECORDED_UNKNOWN_SERVICE = 'unknown service';

let edge: TestEdge;
let client: grpc.Client & Record<string, CallableFunction>;

before(async () => {
  edge = await startTestEdge();
  const Ctor = grpc.makeGenericClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health');
  client = new Ctor(edge.address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, CallableFunction>;
});

after(async () => {
  client.close();
  await edge.close();
});

function check(service: string): Promise<{ res?: HealthCheckResponse; err?: grpc.ServiceError }> {
  return new Promise((resolve) => client.Check!({ service }, (err: grpc.ServiceError | null, res?: HealthCheckResponse) => resolve(err ? { err } : { res: res! })));
}

test('the request codec round-trips a name and skips unknown fields', () => {
  assert.deepEqual(decodeHealthCheckRequest(encodeHealthCheckRequest({ service: 'etcd' })), { service: 'etcd' });
  assert.deepEqual(decodeHealthCheckRequest(new Uint8Array([0x10, 0x05])), { service: '' });
});

test('Check of the overall service is SERVING; any other name is NOT_FOUND "unknown service"', async () => {
  assert.equal((await check('')).res?.status, ServingStatus.SERVING);
  const other = await check('etcdserverpb.KV');
  assert.deepEqual([other.err?.code, other.err?.details], [grpc.status.NOT_FOUND, RECORDED_UNKNOWN_SERVICE]);
});

test('Watch sends SERVING for "" and SERVICE_UNKNOWN for other names, then stays open', async () => {
  for (const [service, want] of [['', ServingStatus.SERVING], ['foo', ServingStatus.SERVICE_UNKNOWN]] as const) {
    const stream = client.Watch!({ service }) as grpc.ClientReadableStream<HealthCheckResponse>;
    const first = await new Promise<HealthCheckResponse>((resolve) => stream.once('data', resolve));
    assert.equal(first.status, want);
    const ended = await Promise.race([new Promise((resolve) => stream.once('end', () => resolve('ended'))), new Promise((resolve) => setTimeout(() => resolve('open'), 150))]);
    assert.equal(ended, 'open');
    stream.on('error', () => undefined);
    stream.cancel();
  }
});
