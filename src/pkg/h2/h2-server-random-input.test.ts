import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { seededRand, type Rand } from '../rand.js';
import { ACK, CLIENT_PREFACE, END_HEADERS, END_STREAM, FrameType, H2Error, PADDED, PRIORITY_FLAG, frame, settingsFrame } from './frames.js';
import type { H2Stream } from './h2-stream.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { RawClient, echoHandler, requestBlock, startServer, until, type TestServer } from './test-h2-peer.js';

const SEEDS = 300;

/** Errors that escaped anything during the run: there must be none. */
const escaped: unknown[] = [];
const record = (err: unknown): void => {
  escaped.push(err);
};
let server: TestServer;

/** Answers by stream id: echo, a headers-only answer, or a reset, so every stream path runs. */
function onStream(stream: H2Stream): void {
  switch (stream.id % 3) {
    case 0:
      echoHandler(stream);
      return;
    case 1:
      stream.respond(encodeHeaderBlock([[':status', '200']]), true);
      return;
    default:
      stream.onData = () => stream.reset(H2Error.CANCEL);
  }
}

before(async () => {
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  server = await startServer({ onStream, maxConcurrentStreams: 4, maxHeaderListBytes: 4096 });
});
after(async () => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
  await server.close();
});

const FLAG_CHOICES = [0, END_STREAM, END_HEADERS, END_STREAM | END_HEADERS, PADDED | END_HEADERS, PRIORITY_FLAG | END_HEADERS, 0xff];

function bytes(r: Rand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r.intn(256);
  return b;
}

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[r.intn(xs.length)]!;
}

/** A stream id: mostly small odd ones the client plausibly uses, sometimes 0, even, huge, or with the reserved bit. */
function streamId(r: Rand): number {
  switch (r.intn(8)) {
    case 0:
      return 0;
    case 1:
      return 2 * r.intn(4);
    case 2:
      return r.intn(2 ** 31);
    case 3:
      return (0x80000000 | (1 + 2 * r.intn(4))) >>> 0;
    default:
      return 1 + 2 * r.intn(6);
  }
}

/** A payload of the sizes the fixed-size frames need, or of no particular size. */
function payload(r: Rand): Buffer {
  const size = r.intn(3) === 0 ? pick(r, [0, 1, 4, 5, 6, 8, 12]) : r.intn(40);
  return bytes(r, size);
}

/** One frame of no particular sense: a request on any id, a DATA frame, or anything at all. */
function randomFrame(r: Rand): Buffer {
  switch (r.intn(6)) {
    case 0: {
      let block: Buffer = requestBlock(pick(r, ['/echo', '/a', '/b']));
      if (r.intn(4) === 0) block = Buffer.concat([block, bytes(r, 1 + r.intn(6))]);
      const flags = pick(r, FLAG_CHOICES);
      let body = block;
      if ((flags & PRIORITY_FLAG) !== 0 && flags !== 0xff) body = Buffer.concat([bytes(r, 5), body]);
      if ((flags & PADDED) !== 0 && flags !== 0xff) body = Buffer.concat([Buffer.from([r.intn(12)]), body, Buffer.alloc(r.intn(12))]);
      return frame(FrameType.HEADERS, flags, streamId(r), body);
    }
    case 1:
      return frame(FrameType.CONTINUATION, pick(r, [0, END_HEADERS]), streamId(r), r.intn(2) === 0 ? encodeHeaderBlock([['x-a', 'b']]) : payload(r));
    case 2:
      return frame(FrameType.DATA, pick(r, [0, END_STREAM, PADDED, PADDED | END_STREAM]), streamId(r), r.intn(10) === 0 ? bytes(r, 16_385) : payload(r));
    case 3:
      return frame(pick(r, [FrameType.SETTINGS, FrameType.PING, FrameType.WINDOW_UPDATE, FrameType.RST_STREAM]), pick(r, [0, ACK]), r.intn(3) === 0 ? streamId(r) : 0, payload(r));
    default:
      return frame(r.intn(3) === 0 ? r.intn(256) : r.intn(12), r.intn(256), streamId(r), payload(r));
  }
}

/** A frame a well-behaved client could send, given the highest stream id it has opened so far. */
function plausibleFrame(r: Rand, client: { lastStreamId: number }): Buffer {
  const open = (): number => 1 + 2 * r.intn((client.lastStreamId + 1) / 2);
  switch (client.lastStreamId === 0 ? 0 : r.intn(8)) {
    case 0:
    case 1: {
      client.lastStreamId += 2 * (1 + r.intn(2)) - (client.lastStreamId === 0 ? 1 : 0);
      return frame(FrameType.HEADERS, END_HEADERS | (r.intn(2) === 0 ? END_STREAM : 0), client.lastStreamId, requestBlock('/echo'));
    }
    case 2:
      return frame(FrameType.DATA, r.intn(3) === 0 ? END_STREAM : 0, open(), bytes(r, r.intn(100)));
    case 3:
      return frame(FrameType.WINDOW_UPDATE, 0, r.intn(2) === 0 ? 0 : open(), Buffer.from([0, 0, 1 + r.intn(200), r.intn(256)]));
    case 4:
      return frame(FrameType.PING, 0, 0, bytes(r, 8));
    case 5:
      return frame(FrameType.RST_STREAM, 0, open(), Buffer.from([0, 0, 0, r.intn(14)]));
    case 6:
      return frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 4, 0, r.intn(4), r.intn(256), r.intn(256)]));
    default:
      return frame(12 + r.intn(200), r.intn(256), r.intn(8), bytes(r, r.intn(20)));
  }
}

/**
 * The bytes of one run: mostly a proper preface and SETTINGS, then frames a client could send,
 * with senseless ones mixed in at a rate that differs per run.
 */
function randomInput(r: Rand): Buffer {
  const parts: Buffer[] = [];
  const start = r.intn(20);
  if (start === 0) parts.push(bytes(r, r.intn(30)));
  else parts.push(CLIENT_PREFACE, start === 1 ? randomFrame(r) : settingsFrame([]));
  const client = { lastStreamId: 0 };
  const senseless = pick(r, [0, 0.02, 0.1, 0.5, 1]);
  const n = 1 + r.intn(25);
  for (let i = 0; i < n; i++) parts.push(r.float() < senseless ? randomFrame(r) : plausibleFrame(r, client));
  return Buffer.concat(parts);
}

/** Writes `input` in random pieces, yielding between some, so frames split across reads. */
async function writeInPieces(r: Rand, c: RawClient, input: Buffer): Promise<void> {
  for (let at = 0; at < input.length && !c.closed; ) {
    const n = 1 + r.intn(r.intn(2) === 0 ? 16 : 4096);
    c.send(input.subarray(at, at + n));
    at += n;
    if (r.intn(3) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

test(`${SEEDS} seeded random frame sequences never throw, and each ends in a GOAWAY or a connection still serving`, async () => {
  const outcomes = { goAway: 0, served: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = seededRand(seed);
    const accepted = server.sockets.length;
    // Not acknowledging the server's SETTINGS: the ACK would land in the middle of a split frame.
    const c = await RawClient.connect(server.port, { preface: false, ackSettings: false });
    await until(() => server.sockets.length > accepted, 'the server to accept');
    const serverClosed = once(server.sockets[accepted]!, 'close');
    await writeInPieces(r, c, randomInput(r));
    // A PING of our own: answered if the server is still serving after the garbage.
    const tag = Buffer.alloc(8);
    tag.writeUInt32BE(seed, 4);
    c.send(frame(FrameType.PING, 0, 0, tag));
    let outcome: 'goAway' | 'served' | 'closed';
    for (;;) {
      const f = await c.next();
      if (f === undefined) {
        outcome = 'closed';
        break;
      }
      if (f.type === FrameType.GOAWAY) {
        await c.waitClosed();
        outcome = 'goAway';
        break;
      }
      if (f.type === FrameType.PING && f.flags === ACK && f.payload.equals(tag)) {
        outcome = 'served';
        break;
      }
    }
    if (outcome === 'closed') assert.fail(`seed ${seed}: closed without GOAWAY`);
    outcomes[outcome]++;
    c.close();
    await serverClosed;
    assert.equal(server.connections[accepted]!.streamCount, 0, `seed ${seed}: streams left open`);
    assert.deepEqual(escaped, [], `seed ${seed}`);
  }
  assert.deepEqual(escaped, []);
  // The generator reaches both ends often.
  assert.ok(outcomes.goAway > SEEDS / 10 && outcomes.served > SEEDS / 10, JSON.stringify(outcomes));
  // And the server still serves a well-formed client afterwards.
  const c = await RawClient.connect(server.port);
  c.request(3, '/echo', false);
  c.send(frame(FrameType.DATA, END_STREAM, 3, Buffer.from('still fine')));
  const data = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 3);
  assert.equal(data.payload.toString(), 'still fine');
  c.close();
});
