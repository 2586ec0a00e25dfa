import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, test } from 'node:test';
import { ACK, END_HEADERS, END_STREAM, FrameType, H2Error, PADDED, PRIORITY_FLAG, Setting, frame } from './frames.js';
import { RESET_BURST } from './h2-server-connection.js';
import type { H2Stream } from './h2-stream.js';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { RawClient, echoHandler, field, requestBlock, settingPayload, startServer, u32, type TestServer } from './test-h2-peer.js';

/** /hold keeps the stream open without answering; /keep answers its x-keep field; everything else is echoed. */
function onStream(stream: H2Stream, fields: string[]): void {
  const path = field(fields, ':path');
  if (path === '/hold') return;
  if (path === '/keep') return stream.respond(encodeHeaderBlock([[':status', '200'], ['x-keep', field(fields, 'x-keep') ?? '']]), true);
  echoHandler(stream);
}

const MAX_HEADER_LIST_BYTES = 16 * 1024;
let server: TestServer;
/** A connection that lives through every test: errors on others must not touch it. */
let bystander: RawClient;
let bystanderStream = 1;

before(async () => {
  server = await startServer({ onStream, maxHeaderListBytes: MAX_HEADER_LIST_BYTES });
  bystander = await RawClient.connect(server.port);
});
after(async () => {
  bystander.close();
  await server.close();
});
afterEach(async () => {
  // The other connection still serves a request after each test's misbehaving client.
  const id = bystanderStream;
  bystanderStream += 2;
  bystander.request(id, '/echo');
  bystander.frame(FrameType.DATA, END_STREAM, id, Buffer.from(`ok ${id}`));
  const data = await bystander.waitFor((f) => f.type === FrameType.DATA && f.streamId === id);
  assert.equal(data.payload.toString(), `ok ${id}`);
});

/** Connects, runs `misbehave`, and returns the GOAWAY code (the socket has closed by then). */
async function goAwayAfter(misbehave: (c: RawClient) => void, opts: Parameters<typeof RawClient.connect>[1] = {}): Promise<number> {
  const c = await RawClient.connect(server.port, opts);
  misbehave(c);
  const g = await c.goAway();
  assert.equal(c.closed, true);
  return g.code;
}

/** Connects, runs `misbehave`, and returns the RST_STREAM code on `streamId`; the connection still answers a PING after it. */
async function rstAfter(streamId: number, misbehave: (c: RawClient) => void): Promise<number> {
  const c = await RawClient.connect(server.port);
  misbehave(c);
  const code = await c.rstStream(streamId);
  await c.roundTrip();
  assert.equal(
    c.frames.some((f) => f.type === FrameType.GOAWAY),
    false,
  );
  c.close();
  return code;
}

test('a bad client preface: GOAWAY PROTOCOL_ERROR, also when it is shorter than the preface', async () => {
  assert.equal(await goAwayAfter((c) => c.send(Buffer.from('GET / HTTP/1.1\r\n\r\n')), { preface: false }), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')), { preface: false }), H2Error.PROTOCOL_ERROR);
});

test('a first frame other than SETTINGS: GOAWAY PROTOCOL_ERROR (§3.4)', async () => {
  const c = await RawClient.connect(server.port, { preface: false });
  c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
  c.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
  assert.equal((await c.goAway()).code, H2Error.PROTOCOL_ERROR);
});

test('a frame longer than 16,384 bytes: GOAWAY FRAME_SIZE_ERROR, before its payload arrives', async () => {
  const code = await goAwayAfter((c) => {
    c.request(1, '/hold');
    const header = Buffer.from([0x00, 0x40, 0x01, FrameType.DATA, 0, 0, 0, 0, 1]);
    c.send(header, Buffer.alloc(100));
  });
  assert.equal(code, H2Error.FRAME_SIZE_ERROR);
});

test('HEADERS on stream 0, on an even stream, or on a decreasing stream id: GOAWAY PROTOCOL_ERROR', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.HEADERS, END_HEADERS, 0, requestBlock())), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.HEADERS, END_HEADERS, 2, requestBlock())), H2Error.PROTOCOL_ERROR);
  assert.equal(
    await goAwayAfter((c) => {
      c.request(5, '/hold');
      c.request(3, '/hold');
    }),
    H2Error.PROTOCOL_ERROR,
  );
});

test('HEADERS again on a stream that is over is ignored (the client may not have seen our RST_STREAM)', async () => {
  const c = await RawClient.connect(server.port);
  c.request(1, '/echo');
  c.frame(FrameType.RST_STREAM, 0, 1, u32(H2Error.CANCEL));
  c.frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, encodeHeaderBlock([['x-trailer', '1']]));
  await c.roundTrip();
  assert.equal(
    c.frames.some((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM),
    false,
  );
  c.close();
});

test('CONTINUATION without HEADERS, or with another frame or stream between: GOAWAY PROTOCOL_ERROR (§6.10)', async () => {
  const block = requestBlock('/hold');
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.CONTINUATION, END_HEADERS, 1, block)), H2Error.PROTOCOL_ERROR);
  assert.equal(
    await goAwayAfter((c) => {
      c.frame(FrameType.HEADERS, 0, 1, block.subarray(0, 5));
      c.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
      c.frame(FrameType.CONTINUATION, END_HEADERS, 1, block.subarray(5));
    }),
    H2Error.PROTOCOL_ERROR,
  );
  assert.equal(
    await goAwayAfter((c) => {
      c.frame(FrameType.HEADERS, 0, 1, block.subarray(0, 5));
      c.frame(FrameType.CONTINUATION, END_HEADERS, 3, block.subarray(5));
    }),
    H2Error.PROTOCOL_ERROR,
  );
});

test('streams reset by the client before an answer: a burst of RESET_BURST is served, a burst beyond the refill closes with ENHANCE_YOUR_CALM', async () => {
  const c = await RawClient.connect(server.port);
  let id = 1;
  const openAndReset = (n: number): void => {
    const frames: Buffer[] = [];
    for (let i = 0; i < n; i++, id += 2) {
      frames.push(frame(FrameType.HEADERS, END_HEADERS, id, requestBlock('/hold')), frame(FrameType.RST_STREAM, 0, id, u32(H2Error.CANCEL)));
    }
    c.send(...frames);
  };
  openAndReset(RESET_BURST);
  await c.roundTrip();
  assert.equal(c.closed, false, 'a burst within the budget is served');
  // The budget refills at RESETS_PER_SECOND: a hundred more within a second overdraw it.
  openAndReset(100);
  assert.equal((await c.goAway()).code, H2Error.ENHANCE_YOUR_CALM);
});

test('a header block that keeps growing past the header list limit: GOAWAY ENHANCE_YOUR_CALM', async () => {
  const code = await goAwayAfter((c) => {
    c.frame(FrameType.HEADERS, 0, 1, requestBlock('/hold'));
    for (let i = 0; i < 100; i++) c.frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(1000, 0x82));
  });
  assert.equal(code, H2Error.ENHANCE_YOUR_CALM);
});

test('a decoded header list above the limit refuses its stream only, keeping the HPACK table in step', async () => {
  const c = await RawClient.connect(server.port);
  // 600 small fields: a 4 KB block, but 32 bytes more per field once decoded (RFC 7541 §4.1).
  const many = Array.from({ length: 600 }, (_, i) => [`x-${i}`, 'v'] as const);
  // The refused block also adds `x-keep: yes` to the dynamic table (literal with incremental indexing).
  const keep = Buffer.concat([Buffer.from([0x40, 6]), Buffer.from('x-keep'), Buffer.from([3]), Buffer.from('yes')]);
  c.frame(FrameType.HEADERS, END_HEADERS, 1, Buffer.concat([requestBlock('/hold', many), keep]));
  assert.equal(await c.rstStream(1), H2Error.PROTOCOL_ERROR);
  // The next block names that entry by its index, 62.
  c.frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 3, Buffer.concat([requestBlock('/keep'), Buffer.from([0x80 | 62])]));
  const answer = await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 3);
  const fields: string[] = [];
  assert.equal(new HpackDecoder().decode(answer.payload, fields), undefined);
  assert.equal(field(fields, 'x-keep'), 'yes');
  c.close();
});

test('a broken HPACK block: GOAWAY COMPRESSION_ERROR', async () => {
  // Index 70 names a dynamic table entry that does not exist.
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.HEADERS, END_HEADERS, 1, Buffer.from([0x80 | 70]))), H2Error.COMPRESSION_ERROR);
  // A string literal longer than the block.
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.HEADERS, END_HEADERS, 1, Buffer.from([0x40, 0x0a, 0x61]))), H2Error.COMPRESSION_ERROR);
});

test('PING with 7 bytes or on a stream: GOAWAY FRAME_SIZE_ERROR / PROTOCOL_ERROR', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.PING, 0, 0, Buffer.alloc(7))), H2Error.FRAME_SIZE_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.PING, 0, 1, Buffer.alloc(8))), H2Error.PROTOCOL_ERROR);
});

test('SETTINGS with a length not a multiple of 6, an ACK with a payload, or on a stream: GOAWAY', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(7))), H2Error.FRAME_SIZE_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, ACK, 0, Buffer.alloc(6))), H2Error.FRAME_SIZE_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 1, Buffer.alloc(0))), H2Error.PROTOCOL_ERROR);
});

test('SETTINGS out of range: INITIAL_WINDOW_SIZE above 2^31-1 is FLOW_CONTROL_ERROR, bad MAX_FRAME_SIZE and ENABLE_PUSH are PROTOCOL_ERROR', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.INITIAL_WINDOW_SIZE, 2 ** 31))), H2Error.FLOW_CONTROL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.MAX_FRAME_SIZE, 16_383))), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.MAX_FRAME_SIZE, 2 ** 24))), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.ENABLE_PUSH, 2))), H2Error.PROTOCOL_ERROR);
});

test('an INITIAL_WINDOW_SIZE that lifts an open stream window above 2^31-1: GOAWAY FLOW_CONTROL_ERROR (§6.9.2)', async () => {
  const code = await goAwayAfter((c) => {
    c.request(1, '/hold');
    c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1 - 65_535));
    c.frame(FrameType.SETTINGS, 0, 0, settingPayload(Setting.INITIAL_WINDOW_SIZE, 65_536));
  });
  assert.equal(code, H2Error.FLOW_CONTROL_ERROR);
});

test('WINDOW_UPDATE of 0: RST_STREAM PROTOCOL_ERROR on a stream, GOAWAY PROTOCOL_ERROR on the connection', async () => {
  assert.equal(
    await rstAfter(1, (c) => {
      c.request(1, '/hold');
      c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(0));
    }),
    H2Error.PROTOCOL_ERROR,
  );
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(0))), H2Error.PROTOCOL_ERROR);
});

test('a window above 2^31-1: RST_STREAM FLOW_CONTROL_ERROR on a stream, GOAWAY FLOW_CONTROL_ERROR on the connection', async () => {
  assert.equal(
    await rstAfter(1, (c) => {
      c.request(1, '/hold');
      c.frame(FrameType.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1));
    }),
    H2Error.FLOW_CONTROL_ERROR,
  );
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1))), H2Error.FLOW_CONTROL_ERROR);
});

test('WINDOW_UPDATE with a bad length or on an idle stream: GOAWAY', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(3, 1))), H2Error.FRAME_SIZE_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.WINDOW_UPDATE, 0, 9, u32(1))), H2Error.PROTOCOL_ERROR);
});

test('DATA on an idle stream or on stream 0: GOAWAY PROTOCOL_ERROR', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.DATA, 0, 1, Buffer.from('x'))), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.DATA, 0, 0, Buffer.from('x'))), H2Error.PROTOCOL_ERROR);
  assert.equal(
    await goAwayAfter((c) => {
      c.request(1, '/hold');
      c.frame(FrameType.DATA, 0, 2, Buffer.from('x'));
    }),
    H2Error.PROTOCOL_ERROR,
  );
});

test('DATA after the client ended its stream: RST_STREAM STREAM_CLOSED (§5.1)', async () => {
  const code = await rstAfter(1, (c) => {
    c.request(1, '/hold', true);
    c.frame(FrameType.DATA, 0, 1, Buffer.from('late'));
  });
  assert.equal(code, H2Error.STREAM_CLOSED);
});

test('trailers without END_STREAM: RST_STREAM PROTOCOL_ERROR (§8.1)', async () => {
  const code = await rstAfter(1, (c) => {
    c.request(1, '/hold');
    c.frame(FrameType.HEADERS, END_HEADERS, 1, encodeHeaderBlock([['x-trailer', '1']]));
  });
  assert.equal(code, H2Error.PROTOCOL_ERROR);
});

test('a stream depending on itself: RST_STREAM PROTOCOL_ERROR (§5.3.1)', async () => {
  const code = await rstAfter(1, (c) => {
    c.frame(FrameType.HEADERS, END_HEADERS | PRIORITY_FLAG, 1, Buffer.concat([u32(1), Buffer.from([16]), requestBlock('/hold')]));
  });
  assert.equal(code, H2Error.PROTOCOL_ERROR);
});

test('PUSH_PROMISE from the client: GOAWAY PROTOCOL_ERROR', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.PUSH_PROMISE, END_HEADERS, 1, Buffer.concat([u32(2), requestBlock()]))), H2Error.PROTOCOL_ERROR);
});

test('RST_STREAM on an idle stream, on stream 0, or with a bad length: GOAWAY', async () => {
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.RST_STREAM, 0, 3, u32(H2Error.CANCEL))), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.RST_STREAM, 0, 0, u32(H2Error.CANCEL))), H2Error.PROTOCOL_ERROR);
  assert.equal(
    await goAwayAfter((c) => {
      c.request(1, '/hold');
      c.frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(5));
    }),
    H2Error.FRAME_SIZE_ERROR,
  );
});

test('PRIORITY frames are ignored; one on stream 0 is PROTOCOL_ERROR, one of a bad length resets its stream', async () => {
  const c = await RawClient.connect(server.port);
  c.frame(FrameType.PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0, 16]));
  c.request(3, '/hold');
  c.frame(FrameType.PRIORITY, 0, 3, Buffer.from([0, 0, 0, 0]));
  assert.equal(await c.rstStream(3), H2Error.FRAME_SIZE_ERROR);
  c.close();
  assert.equal(await goAwayAfter((x) => x.frame(FrameType.PRIORITY, 0, 0, Buffer.alloc(5))), H2Error.PROTOCOL_ERROR);
});

test('frames of unknown types are ignored, on the connection and on streams', async () => {
  const c = await RawClient.connect(server.port);
  c.frame(0x20, 0xff, 0, Buffer.from('whatever'));
  c.request(1, '/echo');
  c.frame(0xfa, 0, 1, Buffer.alloc(300, 1));
  c.frame(FrameType.DATA, END_STREAM, 1, Buffer.from('body'));
  const data = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
  assert.equal(data.payload.toString(), 'body');
  assert.equal(
    c.frames.some((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM),
    false,
  );
  c.close();
});

test('padding as long as the payload or longer: GOAWAY PROTOCOL_ERROR, on DATA and on HEADERS', async () => {
  assert.equal(
    await goAwayAfter((c) => {
      c.request(1, '/hold');
      c.frame(FrameType.DATA, PADDED, 1, Buffer.from([3, 1, 2]));
    }),
    H2Error.PROTOCOL_ERROR,
  );
  assert.equal(await goAwayAfter((c) => c.frame(FrameType.HEADERS, PADDED | END_HEADERS, 1, Buffer.from([200, 0x82]))), H2Error.PROTOCOL_ERROR);
});

test('padded DATA and HEADERS are read without their padding', async () => {
  const c = await RawClient.connect(server.port);
  const block = requestBlock('/echo');
  c.frame(FrameType.HEADERS, PADDED | END_HEADERS, 1, Buffer.concat([Buffer.from([4]), block, Buffer.alloc(4)]));
  c.frame(FrameType.DATA, PADDED | END_STREAM, 1, Buffer.concat([Buffer.from([10]), Buffer.from('abc'), Buffer.alloc(10)]));
  const data = await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
  assert.equal(data.payload.toString(), 'abc');
  c.close();
});

test('GOAWAY from the client is accepted; one on a stream or too short is an error', async () => {
  const c = await RawClient.connect(server.port);
  c.frame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(H2Error.NO_ERROR)]));
  await c.roundTrip();
  c.close();
  assert.equal(await goAwayAfter((x) => x.frame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8))), H2Error.PROTOCOL_ERROR);
  assert.equal(await goAwayAfter((x) => x.frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(4))), H2Error.FRAME_SIZE_ERROR);
});

test('a flood of PINGs from a client that does not read is cut off', async () => {
  const c = await RawClient.connect(server.port);
  c.socket.pause();
  const burst = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from([0, 0, 8, FrameType.PING, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])));
  const serverSide = server.sockets[server.sockets.length - 1]!;
  let closed = false;
  const whenClosed = once(serverSide, 'close').then(() => (closed = true));
  // The server reads on while its answers pile up unread, until it gives up on the client.
  let sent = 0;
  while (!closed && sent < 256 << 20) {
    sent += burst.length;
    // Not events.once: the client socket's reset error would reject it.
    if (!c.socket.write(burst)) await Promise.race([new Promise((resolve) => c.socket.once('drain', resolve)), whenClosed]);
  }
  assert.equal(closed, true, `still open after ${sent} bytes of PING`);
  c.close();
});
