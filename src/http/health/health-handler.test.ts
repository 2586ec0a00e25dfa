import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../pkg/logger.js';
import { SERVER_VERSION } from '../../server/config/version.js';
import { createHealthHandler } from './health-handler.js';

async function withServer(handler: RequestListener, body: (base: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// Expected bodies and headers were taken from etcd 3.4.23 with curl -si.
test('GET /health on a healthy member: 200 {"health":"true"} as text/plain, no newline', async () => {
  await withServer(createHealthHandler({ isHealthy: () => true }), async (base) => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(await res.text(), '{"health":"true"}');
  });
});

test('GET /health on an unhealthy member: 503 {"health":"false"} plus newline, nosniff; logged', async () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l) });
  await withServer(createHealthHandler({ isHealthy: async () => false }, { logger }), async (base) => {
    const res = await fetch(`${base}/health?serializable=true`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), '{"health":"false"}\n');
  });
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0]!) as { 'status-code': number })['status-code'], 503);
});

test('a health check that throws counts as unhealthy', async () => {
  await withServer(createHealthHandler({ isHealthy: () => { throw new Error('no leader'); } }), async (base) => {
    assert.equal((await fetch(`${base}/health`)).status, 503);
  });
});

test('GET /version reports the server and cluster versions as JSON', async () => {
  await withServer(createHealthHandler({ isHealthy: () => true, clusterVersion: () => '3.4.0' }), async (base) => {
    const res = await fetch(`${base}/version`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await res.text(), `{"etcdserver":"${SERVER_VERSION}","etcdcluster":"3.4.0"}`);
  });
  await withServer(createHealthHandler({ isHealthy: () => true }), async (base) => {
    assert.deepEqual(await (await fetch(`${base}/version`)).json(), { etcdserver: SERVER_VERSION, etcdcluster: 'not_decided' });
  });
});

test('other methods get 405 with Allow: GET; other paths 404 or go to next', async () => {
  await withServer(createHealthHandler({ isHealthy: () => true }), async (base) => {
    for (const path of ['/health', '/version']) {
      const res = await fetch(`${base}${path}`, { method: 'POST' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'GET');
      assert.equal(await res.text(), 'Method Not Allowed\n');
    }
    const missing = await fetch(`${base}/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), '404 page not found\n');
  });
  const next: RequestListener = (_req, res) => res.end('next');
  await withServer(createHealthHandler({ isHealthy: () => true }, { next }), async (base) => {
    assert.equal(await (await fetch(`${base}/v2/keys`)).text(), 'next');
  });
});
