import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EtcdServer } from '../../server/etcd-server.js';
import { quietLogger, tempDir, testConfig } from '../../server/test-member.js';
import { createPutRequest, PutRequest } from '../../api/gen/etcdserverpb.js';
import { createGatewayHandler } from './gateway-handler.js';

const servers: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function startGateway(): Promise<string> {
  const etcd = await EtcdServer.start(testConfig(tempDir(), ['--max-request-bytes=1024']), quietLogger());
  await etcd.readyNotify();
  const http: Server = createServer(createGatewayHandler(etcd));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  servers.push({ stop: async () => new Promise<void>((r) => http.close(() => r())) }, { stop: () => etcd.stop() });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

test('an oversized gateway request is refused with grpc-go’s text and its decoded size; the gateway keeps serving', async () => {
  const base = await startGateway();
  const limit = 1024 + 512 * 1024;
  const huge = JSON.stringify({ key: 'Zm9v', value: Buffer.alloc(limit).toString('base64') });
  const r = await fetch(`${base}/v3/kv/put`, { method: 'POST', body: huge });
  assert.equal(r.status, 429);
  const body = (await r.json()) as { code: number; error: string };
  assert.equal(body.code, 8);
  // The size is the decoded request's, as grpc-go sees what etcd's gateway sends it.
  const decoded = PutRequest.encode(createPutRequest({ key: Buffer.from('foo'), value: Buffer.alloc(limit) })).length;
  assert.equal(body.error, `grpc: received message larger than max (${decoded} vs. ${limit})`);

  const ok = await fetch(`${base}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: 'Zm9v', value: 'YmFy' }) });
  assert.equal(ok.status, 200);
  const got = (await (await fetch(`${base}/v3/kv/range`, { method: 'POST', body: '{"key":"Zm9v"}' })).json()) as {
    kvs: { value: string }[];
  };
  assert.equal(got.kvs[0]!.value, 'YmFy');
});

test('a request over --max-request-bytes but within the transport bound gets etcd’s own error', async () => {
  const base = await startGateway();
  const r = await fetch(`${base}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: 'Zm9v', value: Buffer.alloc(4096).toString('base64') }),
  });
  assert.equal(r.status, 400);
  const body = (await r.json()) as { error: string };
  assert.equal(body.error, 'etcdserver: request is too large');
});

test('POST /v3/lease/keepalive answers each request of the body with a result line, as etcd’s gateway', async () => {
  const base = await startGateway();
  const grant = (await (await fetch(`${base}/v3/lease/grant`, { method: 'POST', body: '{"TTL":60}' })).json()) as { ID: string };
  // The ID goes as a bare JSON number above 2^53, as python-etcd3gw sends it.
  const r = await fetch(`${base}/v3/lease/keepalive`, { method: 'POST', body: `{"ID":${grant.ID}}{"ID":${grant.ID}}` });
  assert.equal(r.status, 200);
  const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l) as { result: { ID: string; TTL: string } });
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.equal(l.result.ID, grant.ID);
    assert.equal(l.result.TTL, '60');
  }
  const missing = (await (await fetch(`${base}/v3/lease/keepalive`, { method: 'POST', body: '{"ID":123}' })).text()).trim();
  assert.deepEqual(Object.keys((JSON.parse(missing) as { result: object }).result).sort(), ['ID', 'header'], 'an unknown lease answers TTL 0 (omitted)');
});
