import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { after, before, beforeEach, test } from 'node:test';
import { ACK, END_HEADERS, END_STREAM, FrameType, H2Error } from './frames.js';
import type { H2Stream } from './h2-stream.js';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { RawClient, echoHandler, field, requestBlock, startServer, u32, until, type Frame, type TestServer } from './test-h2-peer.js';

/** Streams the handler holds open without answering, by stream id. */
const held = new Map<number, H2Stream>();
const closes: { id: number; reset: boolean }[] = [];
let server: TestServer;

/** Routes by :path: /echo echoes; /status answers headers-only; /hold answers nothing; /big-header answers a 40 KB header. */
function onStream(stream: H2Stream, fields: string[]): void {
  stream.onClose = (reset) => closes.push({ id: stream.id, reset });
  switch (field(fields, ':path')) {
    case '/status':
      stream.respond(encodeHeaderBlock([[':status', '204'], ['x-path', 'status']]), true);
      return;
    case '/hold':
      held.set(stream.id, stream);
      stream.onClose = (reset) => {
        closes.push({ id: stream.id, reset });
        held.delete(stream.id);
      };
      return;
    case '/big-header':
      stream.respond(encodeHeaderBlock([[':status', '200'], ['x-big', 'b'.repeat(40_000)]]), true);
      return;
    case '/fields':
      stream.respond(encodeHeaderBlock([[':status', '200'], ['x-long', field(fields, 'x-long') ?? '']]), true);
      return;
    default:
      echoHandler(stream);
  }
}

before(async () => {
  server = await startServer({ onStream, maxConcurrentStreams: 1000 });
});
after(() => server.close());
beforeEach(() => {
  held.clear();
  closes.length = 0;
});

function connectHttp2(): http2.ClientHttp2Session {
  const client = http2.connect(`http://127.0.0.1:${server.port}`);
  client.on('error', () => {});
  return client;
}

async function post(client: http2.ClientHttp2Session, path: string, body: Buffer | string): Promise<{ status: number; body: Buffer; trailers: http2.IncomingHttpHeaders | undefined }> {
  const req = client.request({ ':method': 'POST', ':path': path });
  let trailers: http2.IncomingHttpHeaders | undefined;
  req.on('trailers', (t) => (trailers = t));
  req.end(body);
  const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return { status: Number(headers[':status']), body: Buffer.concat(chunks), trailers };
}

test('a request is answered with headers, the echoed body and trailers (node:http2 client)', async () => {
  const client = connectHttp2();
  const res = await post(client, '/echo', 'hello, etcd');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello, etcd');
  assert.equal(res.trailers?.['x-status'], 'done');
  client.close();
});

test('three hundred concurrent streams on one connection each get their own answer', async () => {
  const client = connectHttp2();
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => post(client, '/echo', `request ${i} `.repeat(i % 50))));
  answers.forEach((res, i) => {
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), `request ${i} `.repeat(i % 50));
  });
  client.close();
});

test('a headers-only answer ends the stream with its HEADERS frame', async () => {
  const client = connectHttp2();
  const res = await post(client, '/status', '');
  assert.equal(res.status, 204);
  assert.equal(res.body.length, 0);
  client.close();
});

test('a headers-only answer to a complete request sends no RST_STREAM', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/status', true);
  const headers = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  assert.equal(headers.flags & (END_STREAM | END_HEADERS), END_STREAM | END_HEADERS);
  await c.roundTrip();
  assert.deepEqual(
    c.frames.filter((f) => f.type === FrameType.RST_STREAM),
    [],
  );
  c.close();
});

test('an answer given before the request ends resets the rest of the request with NO_ERROR (§8.1)', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/status', false);
  assert.equal(await c.rstStream(1), H2Error.NO_ERROR);
  // The request body the client had in flight is dropped, and the connection goes on.
  c.frame(FrameType.DATA, END_STREAM, 1, Buffer.from('late'));
  await c.roundTrip();
  c.close();
});

test('a client RST_STREAM mid-response closes the stream as reset, nothing more is sent on it, other streams go on', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/echo');
  // 100 KB echoed against the client's 64 KiB window: part of it stays queued on the server.
  for (let i = 0; i < 10; i++) c.frame(FrameType.DATA, 0, 1, Buffer.alloc(10_000, i));
  let sent = 0;
  while (sent < 65_535) sent += (await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1)).payload.length;
  c.frame(FrameType.RST_STREAM, 0, 1, u32(H2Error.CANCEL));
  await c.roundTrip(1);
  assert.deepEqual(closes.find((x) => x.id === 1 && x.reset), { id: 1, reset: true });
  const mark = c.frames.length;
  // Windows large enough to release the queued rest, were the stream still there.
  c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20));
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(1 << 20));
  c.request(3, '/echo', false);
  c.frame(FrameType.DATA, END_STREAM, 3, Buffer.from('still here'));
  const data = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 3);
  assert.equal(data.payload.toString(), 'still here');
  await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 3 && (f.flags & END_STREAM) !== 0);
  await c.roundTrip(2);
  assert.deepEqual(
    c.frames.slice(mark).filter((f) => f.streamId === 1),
    [],
  );
  c.close();
});

test('a client reset with node:http2 reaches the handler as onClose(true)', async () => {
  const client = connectHttp2();
  const req = client.request({ ':method': 'POST', ':path': '/hold' });
  req.on('error', () => {});
  await once(req, 'ready');
  const id = req.id!;
  await until(() => held.has(id), 'the stream to reach the handler');
  req.close(http2.constants.NGHTTP2_CANCEL);
  await until(() => !held.has(id), 'onClose');
  assert.deepEqual(
    closes.filter((x) => x.id === id),
    [{ id, reset: true }],
  );
  // The session still serves.
  assert.equal((await post(client, '/echo', 'after reset')).body.toString(), 'after reset');
  client.close();
});

test('streams above MAX_CONCURRENT_STREAMS are refused, the others stay open', async () => {
  const small = await startServer({ onStream, maxConcurrentStreams: 2 });
  const c = await RawClient.connect(small.port);
  assert.deepEqual(c.serverSettings[0], [0x3, 2]);
  c.request(1, '/hold');
  c.request(3, '/hold');
  c.request(5, '/hold');
  assert.equal(await c.rstStream(5), H2Error.REFUSED_STREAM);
  await c.roundTrip();
  assert.deepEqual(
    c.frames.filter((f) => f.type === FrameType.RST_STREAM).map((f) => f.streamId),
    [5],
  );
  assert.equal(small.connections[0]!.streamCount, 2);
  // A slot frees when a stream ends: the next stream is served.
  c.frame(FrameType.RST_STREAM, 0, 1, u32(H2Error.CANCEL));
  c.request(7, '/status', true);
  const answer = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 7);
  assert.equal(answer.flags & END_STREAM, END_STREAM);
  c.close();
  await small.close();
});

test('PING is answered with ACK and the same payload', async () => {
  const c = await RawClient.connect(server.port);
  const payload = Buffer.from('8 bytes!');
  c.frame(FrameType.PING, 0, 0, payload);
  const ack = await c.waitFor((f) => f.type === FrameType.PING);
  assert.equal(ack.flags, ACK);
  assert.equal(ack.streamId, 0);
  assert.deepEqual(ack.payload, payload);
  // A PING ACK from the client is not answered.
  c.frame(FrameType.PING, ACK, 0, payload);
  await c.roundTrip();
  assert.equal(c.frames.filter((f) => f.type === FrameType.PING).length, 2);
  c.close();
});

test('keepalive: a silent client is pinged, and disconnected when it does not answer', async () => {
  const ka = await startServer({ onStream, keepAliveIntervalMs: 20, keepAliveTimeoutMs: 20 });
  const c = await RawClient.connect(ka.port);
  const ping = await c.waitFor((f) => f.type === FrameType.PING);
  assert.equal(ping.flags & ACK, 0);
  await c.waitClosed();
  assert.equal(ka.sockets[0]!.destroyed, true);
  await ka.close();
});

test('keepalive: a client that answers the pings stays connected', async () => {
  const ka = await startServer({ onStream, keepAliveIntervalMs: 20, keepAliveTimeoutMs: 20 });
  const c = await RawClient.connect(ka.port);
  for (let i = 0; i < 3; i++) {
    const ping = await c.waitFor((f) => f.type === FrameType.PING && (f.flags & ACK) === 0);
    c.frame(FrameType.PING, ACK, 0, ping.payload);
  }
  assert.equal(c.closed, false);
  c.request(1, '/status', true);
  await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  c.close();
  await ka.close();
});

test('a request header block split over HEADERS and CONTINUATION frames is decoded whole', async () => {
  const c = await RawClient.connect(server.port);
  const long = 'v'.repeat(30_000);
  const block = requestBlock('/fields', [['x-long', long]]);
  const cut1 = 10_000;
  const cut2 = 20_000;
  c.frame(FrameType.HEADERS, END_STREAM, 1, block.subarray(0, cut1));
  c.frame(FrameType.CONTINUATION, 0, 1, block.subarray(cut1, cut2));
  c.frame(FrameType.CONTINUATION, END_HEADERS, 1, block.subarray(cut2));
  const frames = await readHeaderBlock(c, 1);
  const fields: string[] = [];
  assert.equal(new HpackDecoder().decode(Buffer.concat(frames.map((f) => f.payload)), fields), undefined);
  assert.equal(field(fields, 'x-long'), long);
  c.close();
});

test('a response header block above the peer max frame size goes out as HEADERS and CONTINUATION frames', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/big-header', true);
  const frames = await readHeaderBlock(c, 1);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags, f.payload.length <= 16_384]),
    [
      [FrameType.HEADERS, END_STREAM, true],
      [FrameType.CONTINUATION, 0, true],
      [FrameType.CONTINUATION, END_HEADERS, true],
    ],
  );
  const fields: string[] = [];
  assert.equal(new HpackDecoder().decode(Buffer.concat(frames.map((f) => f.payload)), fields), undefined);
  assert.equal(field(fields, 'x-big'), 'b'.repeat(40_000));
  c.close();
});

/** The frames of the next header block on `streamId`, HEADERS through END_HEADERS, with nothing between them. */
async function readHeaderBlock(c: RawClient, streamId: number): Promise<Frame[]> {
  const frames = [await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === streamId)];
  while ((frames[frames.length - 1]!.flags & END_HEADERS) === 0) {
    const f = await c.next();
    assert.ok(f !== undefined && f.type === FrameType.CONTINUATION && f.streamId === streamId, 'CONTINUATION expected');
    frames.push(f);
  }
  return frames;
}
