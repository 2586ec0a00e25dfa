import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { after, before, beforeEach, test } from 'node:test';
import { END_STREAM, FrameType, H2Error, Setting } from './frames.js';
import { STREAM_RECV_WINDOW } from './h2-server-connection.js';
import { STREAM_HIGH_WATER_BYTES, type H2Stream } from './h2-stream.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { RawClient, field, pattern, settingPayload, startServer, u32, until, type TestServer } from './test-h2-peer.js';

const OK = encodeHeaderBlock([[':status', '200']]);
const TRAILERS = encodeHeaderBlock([['x-status', 'done']]);

/** What the /big handler saw: how often `write` refused more and `onDrain` fired. */
let writer = { refusals: 0, drains: 0 };
/** Whether every request body /count received was the pattern, in order. */
let received = { inOrder: true };

/**
 * /big?n=N answers N pattern bytes written in 16 KiB chunks, waiting for onDrain whenever write
 * refuses more; /count answers the number of request body bytes and whether they were in order.
 */
function onStream(stream: H2Stream, fields: string[]): void {
  const path = field(fields, ':path') ?? '';
  if (path.startsWith('/big?n=')) {
    const total = Number(path.slice('/big?n='.length));
    let at = 0;
    const pump = (): void => {
      while (at < total) {
        const n = Math.min(16_384, total - at);
        const ok = stream.write(pattern(n, at));
        at += n;
        if (!ok) {
          writer.refusals++;
          return;
        }
      }
      stream.end(TRAILERS);
    };
    stream.onDrain = () => {
      writer.drains++;
      pump();
    };
    stream.respond(OK);
    pump();
    return;
  }
  let bytes = 0;
  stream.onData = (chunk) => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (bytes + i) % 251) received.inOrder = false;
    bytes += chunk.length;
  };
  stream.onEnd = () => {
    stream.respond(OK);
    stream.write(Buffer.from(String(bytes)));
    stream.end(TRAILERS);
  };
}

let server: TestServer;
before(async () => {
  server = await startServer({ onStream });
});
after(() => server.close());
beforeEach(() => {
  writer = { refusals: 0, drains: 0 };
  received = { inOrder: true };
});

function connectHttp2(settings: http2.Settings = {}): http2.ClientHttp2Session {
  const client = http2.connect(`http://127.0.0.1:${server.port}`, { settings });
  client.on('error', () => {});
  return client;
}

async function readAll(req: http2.ClientHttp2Stream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a 3 MiB response reaches a client with a 16 KiB stream window whole and in order', async () => {
  const client = connectHttp2({ initialWindowSize: 16_384 });
  const req = client.request({ ':method': 'POST', ':path': `/big?n=${3 << 20}` });
  req.end();
  const body = await readAll(req);
  assert.equal(body.length, 3 << 20);
  assert.ok(body.equals(pattern(3 << 20)), 'bytes in order');
  assert.ok(writer.refusals > 0 && writer.drains === writer.refusals, `write refused ${writer.refusals}, drained ${writer.drains}`);
  client.close();
});

test('a client that pauses reading holds the answer back; it resumes and arrives whole', async () => {
  const client = connectHttp2();
  const req = client.request({ ':method': 'POST', ':path': `/big?n=${2 << 20}` });
  req.end();
  await once(req, 'response');
  req.pause();
  // The server fills the client's windows, then write refuses more and waits.
  await until(() => writer.refusals > 0, 'write to refuse more');
  assert.equal(writer.drains, 0);
  const body = await readAll(req);
  assert.ok(body.equals(pattern(2 << 20)), 'bytes in order');
  assert.ok(writer.drains > 0);
  client.close();
});

test('write returns false while the socket is backed up, and onDrain follows the socket draining', async () => {
  const c = await RawClient.connect(server.port, { settings: [[Setting.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]] });
  c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1 - 65_535));
  c.socket.pause();
  const total = 8 << 20;
  c.request(1, `/big?n=${total}`, true);
  // Windows are no limit here: only the unread socket holds the writer back.
  await until(() => writer.refusals > 0, 'write to refuse more');
  c.socket.resume();
  await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & END_STREAM) !== 0);
  const body = Buffer.concat(c.frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload));
  assert.ok(body.equals(pattern(total)), 'bytes in order');
  assert.ok(writer.drains > 0 && writer.drains === writer.refusals);
  c.close();
});

test('queued DATA waits for the windows and resumes after WINDOW_UPDATE', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/big?n=100000', true);
  const dataBytes = (): number => c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1).reduce((n, f) => n + f.payload.length, 0);
  await c.waitFor((f) => f.type === FrameType.DATA);
  await c.roundTrip(1);
  // The default windows (§6.9.2): 65,535 bytes on the stream and on the connection.
  assert.equal(dataBytes(), 65_535);
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(20_000));
  await c.roundTrip(2);
  assert.equal(dataBytes(), 65_535, 'the connection window still holds it back');
  c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(100_000));
  await c.roundTrip(3);
  assert.equal(dataBytes(), 85_535);
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(100_000));
  const end = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & END_STREAM) !== 0);
  assert.ok(end);
  assert.equal(dataBytes(), 100_000);
  const body = Buffer.concat(c.frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload));
  assert.ok(body.equals(pattern(100_000)));
  c.close();
});

test('write returns false past the high-water mark and onDrain fires once the window opens', async () => {
  let stream: H2Stream | undefined;
  const results: boolean[] = [];
  let drained = 0;
  const s = await startServer({
    onStream(st) {
      stream = st;
      st.respond(OK);
      st.onDrain = () => drained++;
      for (let i = 0; i < 8; i++) results.push(st.write(Buffer.alloc(16_384, i)));
    },
  });
  const c = await RawClient.connect(s.port);
  c.request(1, '/', true);
  await c.roundTrip();
  // 64 KiB go out against the default windows; the queue passes the mark at the 8th write.
  assert.deepEqual(results, [true, true, true, true, true, true, true, false]);
  assert.equal(stream!.queuedBytes, 8 * 16_384 - 65_535);
  assert.ok(stream!.queuedBytes >= STREAM_HIGH_WATER_BYTES);
  assert.equal(drained, 0);
  c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20));
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(1 << 20));
  await c.roundTrip(2);
  assert.equal(drained, 1);
  assert.equal(stream!.queuedBytes, 0);
  c.close();
  await s.close();
});

test('a change of SETTINGS_INITIAL_WINDOW_SIZE mid-stream resizes its window, below zero too (§6.9.2)', async () => {
  const c = await RawClient.connect(server.port, { settings: [[Setting.INITIAL_WINDOW_SIZE, 1000]] });
  c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20));
  c.request(1, '/big?n=20000', true);
  const dataBytes = (): number => c.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1).reduce((n, f) => n + f.payload.length, 0);
  await c.roundTrip(1);
  assert.equal(dataBytes(), 1000);
  c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.INITIAL_WINDOW_SIZE, 5000));
  await c.roundTrip(2);
  assert.equal(dataBytes(), 5000);
  // 5000 sent, initial window down to 0: the stream's window is now -5000.
  c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.INITIAL_WINDOW_SIZE, 0));
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(5000));
  await c.roundTrip(3);
  assert.equal(dataBytes(), 5000);
  c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(6000));
  await c.roundTrip(4);
  assert.equal(dataBytes(), 11000);
  c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.INITIAL_WINDOW_SIZE, 1 << 20));
  await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & END_STREAM) !== 0);
  assert.equal(dataBytes(), 20000);
  c.close();
});

test('a 6 MiB request body, above the stream window, arrives whole and in order (node:http2 client)', async () => {
  const client = connectHttp2();
  const req = client.request({ ':method': 'POST', ':path': '/count' });
  req.end(pattern(6 << 20));
  const body = await readAll(req);
  assert.equal(body.toString(), String(6 << 20));
  assert.equal(received.inOrder, true);
  client.close();
});

test('the server grants its receive windows back as request DATA arrives', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/count');
  const chunk = Buffer.alloc(16_384);
  const total = 3 * STREAM_RECV_WINDOW;
  for (let sent = 0; sent < total; sent += chunk.length) c.frame(FrameType.DATA, 0, 1, chunk);
  c.frame(FrameType.DATA, END_STREAM, 1);
  const answer = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
  assert.equal(answer.payload.toString(), String(total));
  const granted = (id: number): number => c.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === id).reduce((n, f) => n + f.payload.readUInt32BE(0), 0);
  // Each window is topped up whenever half of it is used.
  assert.ok(granted(1) >= total - STREAM_RECV_WINDOW / 2, `stream grants ${granted(1)}`);
  c.close();
});

test('DATA beyond the stream window is a stream error FLOW_CONTROL_ERROR; the connection goes on', async () => {
  // Until it acknowledges our SETTINGS, the client may send 65,535 bytes per stream (§6.5.3).
  const c = await RawClient.connect(server.port, { ackSettings: false });
  c.request(1, '/count');
  for (let i = 0; i < 4; i++) c.frame(FrameType.DATA, 0, 1, Buffer.alloc(16_384));
  assert.equal(await c.rstStream(1), H2Error.FLOW_CONTROL_ERROR);
  // Once acknowledged, the larger window applies to new streams and the open ones.
  c.frame(FrameType.SETTINGS, 0x1, 0);
  c.request(3, '/count');
  for (let i = 0; i < 8; i++) c.frame(FrameType.DATA, 0, 3, Buffer.alloc(16_384));
  c.frame(FrameType.DATA, END_STREAM, 3);
  const answer = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 3);
  assert.equal(answer.payload.toString(), String(8 * 16_384));
  c.close();
});
