/**
 * What the H2ServerConnection tests share: a real TCP server serving each accepted socket with an
 * {@link H2ServerConnection}, and a raw-frame client that writes any bytes and reads the server's
 * frames one by one.
 */
import net from 'node:net';
import { once } from 'node:events';
import { ACK, CLIENT_PREFACE, FRAME_HEADER_BYTES, FrameType, frame, settingsFrame } from './frames.js';
import { H2ServerConnection, type H2ConnectionOptions } from './h2-server-connection.js';
import type { H2Stream } from './h2-stream.js';
import { encodeHeaderBlock } from './hpack-encoder.js';

/** A running test server. */
export interface TestServer {
  readonly port: number;
  /** Every connection served so far, in accept order. */
  readonly connections: H2ServerConnection[];
  /** Server sides of the accepted sockets, in accept order. */
  readonly sockets: net.Socket[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Serves on 127.0.0.1, port 0, with `options` over generous defaults (no keepalive). */
export async function startServer(options: Partial<H2ConnectionOptions> & Pick<H2ConnectionOptions, 'onStream'>): Promise<TestServer> {
  const full: H2ConnectionOptions = {
    maxConcurrentStreams: 100,
    maxHeaderListBytes: 64 * 1024,
    keepAliveIntervalMs: 0,
    keepAliveTimeoutMs: 0,
    ...options,
  };
  const connections: H2ServerConnection[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    connections.push(new H2ServerConnection(socket, Buffer.alloc(0), full));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    sockets,
    async close() {
      for (const c of connections) c.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A frame as the raw client reads it. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A GOAWAY's fields (RFC 9113 §6.8). */
export interface GoAway {
  lastStreamId: number;
  code: number;
  debug: string;
}

/** The header block of a request: POST `path` as gRPC sends it. */
export function requestBlock(path = '/echo', extra: readonly (readonly [string, string])[] = []): Buffer {
  return encodeHeaderBlock([[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', '127.0.0.1'], ...extra]);
}

/** A SETTINGS payload with one entry. */
export function settingPayload(id: number, value: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(id, 0);
  b.writeUInt32BE(value, 2);
  return b;
}

/** A 4-byte big-endian payload (RST_STREAM code, WINDOW_UPDATE increment). */
export function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

/**
 * A client that speaks raw frames. It answers the server's SETTINGS with an ACK unless told not
 * to, and keeps every other frame for `next`/`waitFor`.
 */
export class RawClient {
  readonly frames: Frame[] = [];
  /** Frames not yet returned by `next`. */
  private read = 0;
  private input: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;
  readonly whenClosed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    private readonly ackSettings: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Resets by a server that gave up on us are expected in these tests.
    socket.on('error', () => {});
    this.whenClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.waiter?.();
        resolve();
      }),
    );
  }

  /**
   * Connects; with `preface` (the default), sends the client preface and a SETTINGS frame, and
   * returns once the server's SETTINGS has arrived (and been acknowledged, unless `ackSettings`
   * is false), so that its windows apply to what the test sends next.
   */
  static async connect(port: number, opts: { preface?: boolean; ackSettings?: boolean; settings?: [number, number][] } = {}): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.setNoDelay(true);
    const client = new RawClient(socket, opts.ackSettings ?? true);
    if (opts.preface ?? true) {
      client.send(CLIENT_PREFACE, settingsFrame(opts.settings ?? []));
      await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & ACK) === 0, 'the server SETTINGS');
    }
    return client;
  }

  /** The server's SETTINGS as (identifier, value) pairs. */
  get serverSettings(): [number, number][] {
    const f = this.frames.find((x) => x.type === FrameType.SETTINGS && (x.flags & ACK) === 0);
    const out: [number, number][] = [];
    for (let i = 0; f !== undefined && i < f.payload.length; i += 6) out.push([f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2)]);
    return out;
  }

  send(...bytes: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bytes));
  }

  /** Sends one frame. */
  frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): void {
    this.send(frame(type, flags, streamId, payload));
  }

  /** Opens stream `streamId` with a request header block; `endStream` for a request without a body. */
  request(streamId: number, path = '/echo', endStream = false): void {
    this.frame(FrameType.HEADERS, 0x4 | (endStream ? 0x1 : 0), streamId, requestBlock(path));
  }

  /**
   * The next frame from the server; undefined once the connection is closed with none left.
   * Throws when nothing comes for `timeoutMs`, so a server that stays silent fails the test
   * instead of hanging it.
   */
  async next(timeoutMs = 5000): Promise<Frame | undefined> {
    while (this.read >= this.frames.length) {
      if (this.closed) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const arrived = await new Promise<boolean>((resolve) => {
        this.waiter = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      if (!arrived) throw new Error(`no frame from the server within ${timeoutMs} ms`);
    }
    return this.frames[this.read++];
  }

  /** Skips frames until one matches; fails if the connection closes first. */
  async waitFor(match: (f: Frame) => boolean, what = 'a frame'): Promise<Frame> {
    for (;;) {
      const f = await this.next();
      if (f === undefined) throw new Error(`connection closed while waiting for ${what}`);
      if (match(f)) return f;
    }
  }

  /** Waits for the server's GOAWAY, then for the socket to close. */
  async goAway(): Promise<GoAway> {
    const f = await this.waitFor((x) => x.type === FrameType.GOAWAY, 'GOAWAY');
    await this.waitClosed();
    return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.toString('utf8', 8) };
  }

  /** Waits for the socket to close; throws if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.whenClosed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for RST_STREAM on `streamId` and returns its code. */
  async rstStream(streamId: number): Promise<number> {
    const f = await this.waitFor((x) => x.type === FrameType.RST_STREAM && x.streamId === streamId, `RST_STREAM on ${streamId}`);
    return f.payload.readUInt32BE(0);
  }

  /** Sends a PING and waits for its ACK: everything the server sent before it has arrived. */
  async roundTrip(tag = 7): Promise<void> {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(tag, 4);
    this.frame(FrameType.PING, 0, 0, payload);
    await this.waitFor((f) => f.type === FrameType.PING && (f.flags & ACK) !== 0 && f.payload.equals(payload), 'PING ACK');
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    let pos = 0;
    while (this.input.length - pos >= FRAME_HEADER_BYTES) {
      const length = this.input.readUIntBE(pos, 3);
      if (this.input.length - pos < FRAME_HEADER_BYTES + length) break;
      const f: Frame = {
        type: this.input[pos + 3]!,
        flags: this.input[pos + 4]!,
        streamId: this.input.readUInt32BE(pos + 5) & 0x7fffffff,
        payload: this.input.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length),
      };
      pos += FRAME_HEADER_BYTES + length;
      if (f.type === FrameType.SETTINGS && (f.flags & ACK) === 0 && this.ackSettings) this.frame(FrameType.SETTINGS, ACK, 0);
      this.frames.push(f);
    }
    this.input = this.input.subarray(pos);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** A handler that answers every request with 200 and echoes its body, ending with a trailer. */
export function echoHandler(stream: H2Stream): void {
  stream.respond(encodeHeaderBlock([[':status', '200']]));
  stream.onData = (chunk) => stream.write(chunk);
  stream.onEnd = () => stream.end(encodeHeaderBlock([['x-status', 'done']]));
}

/** The value of header `name` in a decoded field list (name, value, ...). */
export function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Waits, a turn of the event loop at a time, until `done()`; throws after `timeoutMs`. */
export async function until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `n` bytes of a pattern that reveals reordering (byte i is i mod 251). */
export function pattern(n: number, from = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}
