/**
 * The server side of one HTTP/2 connection (RFC 9113) over a socket, written for gRPC's use of
 * it: request streams opened by the client, answered with a header block, DATA and trailers.
 * No server push, no priorities (PRIORITY is read and ignored, as §5.3.2 allows).
 *
 * Why not node:http2: per call it builds a stream object, a header object, a Duplex stream and
 * several events, and crosses into nghttp2 and back for each frame; for etcd's small calls that
 * was most of a put's CPU. Here a call is a few callbacks, and every frame produced while serving
 * one batch of input (and the microtasks it queues) leaves in one socket write.
 *
 * Flow control (§5.2, §6.9): what we receive is handed to the user at once, so windows are
 * granted back as soon as half is used. What we send waits for the peer's windows, per stream and
 * per connection. Errors: a connection error sends GOAWAY and closes; a stream error resets that
 * stream only (§5.4).
 */
import type { Duplex } from 'node:stream';
import { onMicrotask } from '../microtask.js';
import {
  ACK,
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  END_HEADERS,
  END_STREAM,
  FRAME_HEADER_BYTES,
  FrameType,
  H2Error,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  PADDED,
  PRIORITY_FLAG,
  SETTINGS_ACK_FRAME,
  Setting,
  goAwayFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frames.js';
import { H2Stream, type StreamOwner } from './h2-stream.js';
import { HpackDecoder } from './hpack-decoder.js';
import { OutputBuffer } from './output-buffer.js';

/** Options of an {@link H2ServerConnection}. */
export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams beyond it are refused (REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /** Largest decoded header list accepted, in HPACK's size units (name + value + 32 per field). */
  maxHeaderListBytes: number;
  /** Each new request stream with its header fields (name, value, name, value, ...). */
  onStream(stream: H2Stream, fields: string[]): void;
  /** Ping the client after this long without input; 0: never. */
  keepAliveIntervalMs: number;
  /** Close the connection when a ping stays unanswered (and nothing else arrives) this long. */
  keepAliveTimeoutMs: number;
}

/** The window each stream grants the client (SETTINGS_INITIAL_WINDOW_SIZE). */
export const STREAM_RECV_WINDOW = 1024 * 1024;
/** The window the connection grants the client. */
export const CONNECTION_RECV_WINDOW = 16 * 1024 * 1024;
/** Bytes above which the socket counts as backed up for streams' `write`. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;

export class H2ServerConnection implements StreamOwner {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder: HpackDecoder;
  private readonly out = new OutputBuffer();
  private flushQueued = false;
  private readonly flushNow = (): void => this.flush();
  /** Input not yet a whole frame (or preface). */
  private pending: Buffer | undefined;
  private prefaceSeen = false;
  /** Highest client stream id opened so far (§5.1.1). */
  private lastStreamId = 0;
  /** A header block still awaiting CONTINUATION frames. */
  private headerBlock: { streamId: number; endStream: boolean; fragments: Buffer[] } | undefined;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private connSendWindow = DEFAULT_WINDOW_SIZE;
  private connRecvUnacked = 0;
  private connRecvWindow = CONNECTION_RECV_WINDOW;
  /** Streams with DATA waiting for the connection window, in arrival order. */
  private readonly blocked = new Set<H2Stream>();
  private closed = false;
  private inputSeen = true;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  /** `head`: bytes already read from the socket (starting with the client preface). */
  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    private readonly options: H2ConnectionOptions,
  ) {
    this.decoder = new HpackDecoder(4096, options.maxHeaderListBytes);
    const settings: [number, number][] = [
      [Setting.MAX_CONCURRENT_STREAMS, Math.min(options.maxConcurrentStreams, 2 ** 32 - 1)],
      [Setting.INITIAL_WINDOW_SIZE, STREAM_RECV_WINDOW],
    ];
    this.out.append(settingsFrame(settings));
    this.out.append(windowUpdateFrame(0, CONNECTION_RECV_WINDOW - DEFAULT_WINDOW_SIZE));
    this.scheduleFlush();
    socket.on('data', (chunk: Buffer) => this.onInput(chunk));
    socket.on('drain', () => this.onSocketDrain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onSocketClose());
    socket.on('end', () => socket.end());
    if (options.keepAliveIntervalMs > 0) this.armKeepAlive();
    if (head.length > 0) this.onInput(head);
    socket.resume();
  }

  /** Open streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  get socketWritable(): boolean {
    return this.socket.writableLength < SOCKET_HIGH_WATER_BYTES;
  }

  /** Sends GOAWAY (NO_ERROR) and closes once the socket has written it. */
  close(): void {
    this.fail(H2Error.NO_ERROR, '');
  }

  /** Closes the socket now. */
  destroy(): void {
    this.socket.destroy();
  }

  private onInput(chunk: Buffer): void {
    if (this.closed) return;
    this.inputSeen = true;
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let pos = 0;
    if (!this.prefaceSeen) {
      if (buf.length < CLIENT_PREFACE.length) {
        this.pending = buf;
        return;
      }
      if (buf.compare(CLIENT_PREFACE, 0, CLIENT_PREFACE.length, 0, CLIENT_PREFACE.length) !== 0) {
        this.fail(H2Error.PROTOCOL_ERROR, 'bad client preface');
        return;
      }
      this.prefaceSeen = true;
      pos = CLIENT_PREFACE.length;
    }
    while (buf.length - pos >= FRAME_HEADER_BYTES) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        this.fail(H2Error.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
        return;
      }
      const endOfFrame = pos + FRAME_HEADER_BYTES + length;
      if (buf.length < endOfFrame) break;
      const type = buf[pos + 3]!;
      const flags = buf[pos + 4]!;
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
      const payload = buf.subarray(pos + FRAME_HEADER_BYTES, endOfFrame);
      pos = endOfFrame;
      this.onFrame(type, flags, streamId, payload);
      if (this.closed) return;
    }
    if (pos < buf.length) this.pending = buf.subarray(pos);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock !== undefined && type !== FrameType.CONTINUATION) {
      this.fail(H2Error.PROTOCOL_ERROR, 'expected CONTINUATION'); // §6.10
      return;
    }
    switch (type) {
      case FrameType.DATA:
        this.onData(flags, streamId, payload);
        return;
      case FrameType.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case FrameType.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      case FrameType.RST_STREAM:
        this.onRstStream(streamId, payload);
        return;
      case FrameType.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FrameType.PING:
        if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'PING on a stream');
        if (payload.length !== 8) return this.fail(H2Error.FRAME_SIZE_ERROR, 'PING payload');
        if ((flags & ACK) === 0) {
          this.emitFrame(FrameType.PING, ACK, 0, payload);
        }
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      case FrameType.GOAWAY:
        // The client opens no more streams; the ones open finish, then it closes the socket.
        return;
      case FrameType.PUSH_PROMISE:
        this.fail(H2Error.PROTOCOL_ERROR, 'PUSH_PROMISE from a client'); // §8.4
        return;
      case FrameType.PRIORITY:
        if (payload.length !== 5) this.resetId(streamId, H2Error.FRAME_SIZE_ERROR);
        return;
      default:
        return; // unknown frame types are ignored (§4.1)
    }
  }

  /** The payload of a padded frame without its padding; undefined when the padding is too long. */
  private unpad(flags: number, payload: Buffer, skip: number): Buffer | undefined {
    let start = skip;
    let end = payload.length;
    if ((flags & PADDED) !== 0) {
      if (payload.length < 1) return undefined;
      start += 1;
      end -= payload[0]!;
    }
    return end < start ? undefined : payload.subarray(start, end);
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'DATA on stream 0');
    // The whole frame counts against the windows, padding included (§6.9.1).
    this.connRecvWindow -= payload.length;
    if (this.connRecvWindow < 0) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.connRecvUnacked += payload.length;
    if (this.connRecvUnacked >= CONNECTION_RECV_WINDOW / 2) {
      this.emitWindowUpdate(0, this.connRecvUnacked);
      this.connRecvWindow += this.connRecvUnacked;
      this.connRecvUnacked = 0;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId) return this.fail(H2Error.PROTOCOL_ERROR, 'DATA on an idle stream');
      return; // a stream we closed: the client had sent this before it knew
    }
    if (stream.remoteEnded) return this.resetStream(stream, H2Error.STREAM_CLOSED);
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.resetStream(stream, H2Error.FLOW_CONTROL_ERROR);
    const data = this.unpad(flags, payload, 0);
    if (data === undefined) return this.fail(H2Error.PROTOCOL_ERROR, 'bad padding');
    const endStream = (flags & END_STREAM) !== 0;
    if (!endStream) {
      stream.recvUnacked += payload.length;
      if (stream.recvUnacked >= STREAM_RECV_WINDOW / 2) {
        this.emitWindowUpdate(stream.id, stream.recvUnacked);
        stream.recvWindow += stream.recvUnacked;
        stream.recvUnacked = 0;
      }
    }
    if (data.length > 0) stream.onData?.(data);
    if (endStream && !stream.closed) this.remoteEnd(stream);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const fragment = this.unpad(flags, payload, 0);
    if (fragment === undefined) return this.fail(H2Error.PROTOCOL_ERROR, 'bad padding');
    const block = (flags & PRIORITY_FLAG) !== 0 ? fragment.subarray(5) : fragment;
    if ((flags & PRIORITY_FLAG) !== 0 && fragment.length < 5) return this.fail(H2Error.FRAME_SIZE_ERROR, 'short HEADERS');
    const endStream = (flags & END_STREAM) !== 0;
    if ((flags & END_HEADERS) === 0) {
      this.headerBlock = { streamId, endStream, fragments: [block] };
      return;
    }
    this.onHeaderBlock(streamId, endStream, block);
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const pending = this.headerBlock;
    if (pending === undefined || pending.streamId !== streamId) return this.fail(H2Error.PROTOCOL_ERROR, 'unexpected CONTINUATION');
    pending.fragments.push(payload);
    if ((flags & END_HEADERS) === 0) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(streamId, pending.endStream, Buffer.concat(pending.fragments));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    // Decoded whatever becomes of the stream: the decoder's table must follow the client's.
    const fields: string[] = [];
    const error = this.decoder.decode(block, fields);
    if (error !== undefined && !error.startsWith('header list too large')) return this.fail(H2Error.COMPRESSION_ERROR, error);
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client (§8.1): they must end the stream; gRPC puts nothing in them.
      if (!endStream || existing.remoteEnded) return this.resetStream(existing, H2Error.PROTOCOL_ERROR);
      this.remoteEnd(existing);
      return;
    }
    if (streamId <= this.lastStreamId || streamId % 2 === 0) {
      if (streamId % 2 === 1) return; // HEADERS on a stream we closed: ignored (§5.1)
      return this.fail(H2Error.PROTOCOL_ERROR, 'bad stream id');
    }
    this.lastStreamId = streamId;
    if (error !== undefined) {
      this.emitFrameBuffer(rstStreamFrame(streamId, H2Error.PROTOCOL_ERROR));
      return;
    }
    if (this.streams.size >= this.options.maxConcurrentStreams) {
      this.emitFrameBuffer(rstStreamFrame(streamId, H2Error.REFUSED_STREAM));
      return;
    }
    const stream = new H2Stream(streamId, this, this.peerInitialWindow, STREAM_RECV_WINDOW);
    this.streams.set(streamId, stream);
    this.options.onStream(stream, fields);
    if (endStream && !stream.closed) this.remoteEnd(stream);
  }

  private remoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    stream.onEnd?.();
    if (stream.localEnded && stream.trailers === undefined && stream.queue.length === 0) this.closeStream(stream, false);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, 'RST_STREAM payload');
    if (streamId > this.lastStreamId) return this.fail(H2Error.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.closeStream(stream, true);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & ACK) !== 0) {
      if (payload.length !== 0) this.fail(H2Error.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR, 'SETTINGS payload');
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'INITIAL_WINDOW_SIZE too large');
        // §6.9.2: the change applies to every open stream's window.
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) return this.fail(H2Error.PROTOCOL_ERROR, 'bad MAX_FRAME_SIZE');
        this.peerMaxFrameSize = value;
      } else if (id === Setting.ENABLE_PUSH && value > 1) {
        return this.fail(H2Error.PROTOCOL_ERROR, 'bad ENABLE_PUSH');
      }
      // HEADER_TABLE_SIZE: our encoder never uses the peer's dynamic table. Others: no effect here.
    }
    this.out.append(SETTINGS_ACK_FRAME);
    this.scheduleFlush();
    for (const s of [...this.streams.values()]) if (s.queue.length > 0 && s.sendWindow > 0) this.sendQueued(s);
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW_SIZE) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const s of waiting) this.sendQueued(s);
      return;
    }
    if (streamId > this.lastStreamId) return this.fail(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) return this.resetStream(stream, H2Error.FLOW_CONTROL_ERROR);
    this.sendQueued(stream);
  }

  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void {
    // A block larger than the peer's frame size continues in CONTINUATION frames (§6.10).
    const max = this.peerMaxFrameSize;
    let flags = endStream ? END_STREAM : 0;
    if (block.length <= max) {
      this.emitFrame(FrameType.HEADERS, flags | END_HEADERS, stream.id, block);
    } else {
      for (let at = 0, type: number = FrameType.HEADERS; at < block.length; at += max, type = FrameType.CONTINUATION) {
        const last = at + max >= block.length;
        this.emitFrame(type, flags | (last ? END_HEADERS : 0), stream.id, block.subarray(at, Math.min(block.length, at + max)));
        flags = 0;
      }
    }
    if (endStream) this.localEndDone(stream);
  }

  sendQueued(stream: H2Stream): void {
    if (stream.closed) return;
    while (stream.queue.length > 0) {
      const room = Math.min(stream.sendWindow, this.connSendWindow, this.peerMaxFrameSize);
      if (room <= 0) {
        if (this.connSendWindow <= 0) this.blocked.add(stream);
        return;
      }
      let chunk = stream.queue[0]!;
      if (chunk.length <= room) {
        stream.queue.shift();
      } else {
        stream.queue[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      }
      stream.queuedBytes -= chunk.length;
      stream.sendWindow -= chunk.length;
      this.connSendWindow -= chunk.length;
      this.emitFrame(FrameType.DATA, 0, stream.id, chunk);
    }
    if (stream.needDrain && stream.queuedBytes < 64 * 1024 && this.socketWritable) {
      stream.needDrain = false;
      stream.onDrain?.();
      if (stream.closed) return;
    }
    const trailers = stream.trailers;
    if (trailers !== undefined && stream.queue.length === 0) {
      stream.trailers = undefined;
      this.sendHeaders(stream, trailers, true);
    }
  }

  /** We have sent END_STREAM on `stream`. */
  private localEndDone(stream: H2Stream): void {
    stream.localEnded = true;
    if (!stream.remoteEnded) {
      // The answer is complete; the client need not send the rest of its request (§8.1).
      this.emitFrameBuffer(rstStreamFrame(stream.id, H2Error.NO_ERROR));
    }
    this.closeStream(stream, false);
  }

  resetStream(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    this.emitFrameBuffer(rstStreamFrame(stream.id, code));
    this.closeStream(stream, true);
  }

  private resetId(streamId: number, code: number): void {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.resetStream(stream, code);
  }

  private closeStream(stream: H2Stream, reset: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    stream.queue.length = 0;
    stream.queuedBytes = 0;
    stream.onClose?.(reset);
  }

  private emitWindowUpdate(streamId: number, increment: number): void {
    this.emitFrameBuffer(windowUpdateFrame(streamId, increment));
  }

  private emitFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    const slab = this.out.reserve(FRAME_HEADER_BYTES + payload.length);
    const at = this.out.offset;
    writeFrameHeader(slab, at, payload.length, type, flags, streamId);
    slab.set(payload, at + FRAME_HEADER_BYTES);
    this.out.commit(FRAME_HEADER_BYTES + payload.length);
    this.scheduleFlush();
  }

  private emitFrameBuffer(frameBytes: Buffer): void {
    this.out.append(frameBytes);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    onMicrotask(this.flushNow);
  }

  private flush(): void {
    this.flushQueued = false;
    const chunks = this.out.take();
    if (this.socket.destroyed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  private onSocketDrain(): void {
    for (const s of [...this.streams.values()]) {
      if (s.needDrain && s.queuedBytes < 64 * 1024) {
        s.needDrain = false;
        s.onDrain?.();
      }
    }
  }

  /** A connection error (§5.4.1): GOAWAY with `code`, then the socket closes. */
  private fail(code: number, debug: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.out.append(goAwayFrame(this.lastStreamId, code, debug));
    this.flush();
    this.socket.end();
    // A client that does not close its side is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onSocketClose(): void {
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    for (const s of [...this.streams.values()]) this.closeStream(s, true);
  }

  /**
   * gRPC's server keepalive: after an interval without input, a PING; when the next interval
   * (bounded by the timeout) also brings nothing, the connection is closed.
   */
  private armKeepAlive(): void {
    const { keepAliveIntervalMs, keepAliveTimeoutMs } = this.options;
    let pinged = false;
    const check = (): void => {
      if (this.closed) return;
      if (this.inputSeen) {
        this.inputSeen = false;
        pinged = false;
        this.keepAliveTimer = setTimeout(check, keepAliveIntervalMs).unref();
        return;
      }
      if (pinged) {
        this.socket.destroy();
        return;
      }
      pinged = true;
      this.emitFrame(FrameType.PING, 0, 0, Buffer.alloc(8));
      this.keepAliveTimer = setTimeout(check, keepAliveTimeoutMs).unref();
    };
    this.inputSeen = false;
    this.keepAliveTimer = setTimeout(check, keepAliveIntervalMs).unref();
  }
}
