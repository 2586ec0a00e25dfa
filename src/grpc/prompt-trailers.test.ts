import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { sendTrailersNow } from './prompt-trailers.js';

const OK = { 'grpc-status': '0', 'grpc-message': 'OK' };

interface Answer {
  status: number | undefined;
  body: string;
  trailers: http2.IncomingHttpHeaders | undefined;
  error: Error | undefined;
}

function call(client: http2.ClientHttp2Session): Promise<Answer> {
  return new Promise((resolve) => {
    const req = client.request({ ':method': 'POST', ':path': '/x' });
    const out: Answer = { status: undefined, body: '', trailers: undefined, error: undefined };
    req.on('response', (h) => (out.status = h[':status']));
    req.on('trailers', (t) => (out.trailers = t));
    req.on('data', (c: Buffer) => (out.body += c.toString()));
    req.on('error', (e) => (out.error = e));
    req.on('close', () => resolve(out));
    req.end('ping');
  });
}

test('responses end with their trailers, the first call and every later one, one at a time and many at once', async () => {
  let served = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.resume();
    stream.on('end', () => {
      served++;
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.once('wantTrailers', () => sendTrailersNow(stream, OK));
      stream.end('pong');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(await call(client));
    answers.push(...(await Promise.all(Array.from({ length: 50 }, () => call(client)))));
    for (const a of answers) {
      assert.equal(a.error, undefined);
      assert.equal(a.status, 200);
      assert.equal(a.body, 'pong');
      assert.equal(a.trailers?.['grpc-status'], '0');
      assert.equal(a.trailers?.['grpc-message'], 'OK');
    }
    assert.equal(served, 53);
    // The session is still usable: no stream error or GOAWAY from trailers sent twice.
    assert.equal((await call(client)).trailers?.['grpc-status'], '0');
  } finally {
    client.close();
    await new Promise((r) => server.close(r));
  }
});

test('a stream reset by the client before its trailers leaves the session serving', async () => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.once('wantTrailers', () => sendTrailersNow(stream, OK));
      if (headers[':path'] === '/slow') setTimeout(() => stream.destroyed || stream.end('late'), 50);
      else stream.end('pong');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await call(client);
    const slow = client.request({ ':method': 'POST', ':path': '/slow' });
    slow.on('error', () => {});
    slow.end('x');
    await new Promise((r) => setTimeout(r, 10));
    slow.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((r) => setTimeout(r, 80));
    const after = await call(client);
    assert.equal(after.error, undefined);
    assert.equal(after.trailers?.['grpc-status'], '0');
  } finally {
    client.close();
    await new Promise((r) => server.close(r));
  }
});
