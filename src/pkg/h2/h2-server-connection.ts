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
 * stream only (§5.4). A peer that makes us answer (PING, SETTINGS, frames we reset) faster than
 * it reads the answers is cut off, and a header block is bounded while it is gathered (§10.5).
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
  settingsFrame,
  writeFrameHeader,
} from './frames.js';
import { H2Stream, STREAM_HIGH_WATER_BYTES, type StreamOwner } from './h2-stream.js';
import { HpackDecoder } from './hpack-decoder.js';
import { OutputBuffer } from './output-buffer.js';

/** Options of an {@link H2ServerConnection}. */
export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams beyond it are refused (REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /**
   * Largest decoded header list accepted, in HPACK's size units (name + value + 32 per field);
   * a longer list resets its stream. Also bounds a header block's encoded bytes while its
   * CONTINUATION frames are gathered: beyond it the connection is closed (ENHANCE_YOUR_CALM).
   */
  maxHeaderListBytes: number;
  /** Each new request stream with its header fields (name, value, name, value, ...). */
  onStream(stream: H2Stream, fields: string[]): void;
  /** Ping the client after this long without input; 0: never. */
  keepAliveIntervalMs: number;
  /** Close the connection when a ping stays unanswered (and nothing else arrives) this long. */
  keepAliveTimeoutMs: number;
}

/** The window each stream grants the client (SETTINGS_INITIAL_WINDOW_SIZE), once it has acknowledged our SETTINGS. */
export const STREAM_RECV_WINDOW = 1024 * 1024;
/** The window the connection grants the client. */
export const CONNECTION_RECV_WINDOW = 16 * 1024 * 1024;
/** Bytes above which the socket counts as backed up for streams' `write`. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Answers to the peer's frames (PING and SETTINGS acknowledgements, RST_STREAM for its errors)
 * queued in a row while the socket is backed up, above which the peer counts as flooding us
 * without reading (CVE-2019-9512, -9514, -9515) and the connection is closed.
 */
const MAX_CONTROL_BACKLOG = 10_000;
/**
 * Streams the client may reset before we answered them: a burst, then a rate per second
 * (nghttp2's numbers since 1.57). A client opening streams and resetting them at once makes the
 * server start work it never finishes, without the concurrent-stream limit ever applying
 * (CVE-2023-44487, "rapid reset"); one beyond the budget closes the connection.
 */
export const RESET_BURST = 1000;
export const RESETS_PER_SECOND = 33;
/** Ranges of stream ids skipped by the client that are remembered, to tell a decreasing id (§5.1.1). */
const MAX_SKIPPED_RANGES = 16;
/** Bytes of a RST_STREAM or WINDOW_UPDATE frame. */
const FOUR_BYTE_FRAME = FRAME_HEADER_BYTES + 4;

/** A header block awaiting its CONTINUATION frames (§6.10), gathered into one buffer. */
interface PartialHeaderBlock {
  streamId: number;
  endStream: boolean;
  /** The HEADERS frame made the stream depend on itself (§5.3.1). */
  selfDependent: boolean;
  bytes: Buffer;
  /** invariant: length <= bytes.length */
  length: number;
}

/**
 * One HTTP/2 connection served on `socket`. It owns the socket: it reads it, writes it, and
 * destroys it on a connection error, on `destroy`, or when keepalive pings go unanswered.
 */
export class H2ServerConnection implements StreamOwner {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder: HpackDecoder;
  private readonly out = new OutputBuffer();
  private flushQueued = false;
  private readonly flushNow = (): void => this.flush();
  /** Input not yet a whole frame (or preface). A split frame's header is always complete and checked. */
  private pending: Buffer | undefined;
  private prefaceSeen = false;
  /** The client's first frame must be SETTINGS (§3.4). */
  private settingsSeen = false;
  /** Highest client stream id opened so far (§5.1.1). */
  private lastStreamId = 0;
  /** Stream ids the client jumped over, as first, last pairs, oldest first. */
  private readonly skipped: number[] = [];
  /** A header block still awaiting CONTINUATION frames. */
  private headerBlock: PartialHeaderBlock | undefined;
  /** Each new stream's receive window as the client counts it: the default until it acknowledges our SETTINGS (§6.5.3). */
  private localInitialWindow = DEFAULT_WINDOW_SIZE;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private connSendWindow = DEFAULT_WINDOW_SIZE;
  private connRecvUnacked = 0;
  private connRecvWindow = CONNECTION_RECV_WINDOW;
  /** Streams with DATA waiting for the connection window, in arrival order. */
  private readonly blocked = new Set<H2Stream>();
  /** Streams whose `write` returned false and that are owed an `onDrain`. */
  private readonly drainWaiters = new Set<H2Stream>();
  /** Answers to the peer queued in a row while the socket was backed up (see MAX_CONTROL_BACKLOG). */
  private controlBacklog = 0;
  /** Resets of open streams the client may still make (see RESET_BURST); refilled as time passes. */
  private resetBudget = RESET_BURST;
  private resetBudgetAt = performance.now();
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
    this.emitWindowUpdate(0, CONNECTION_RECV_WINDOW - DEFAULT_WINDOW_SIZE);
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

  /** False while the bytes waiting to go out (not yet flushed, or buffered by the socket) pass the high-water mark. */
  get socketWritable(): boolean {
    return this.socket.writableLength + this.out.length < SOCKET_HIGH_WATER_BYTES;
  }

  /** Sends GOAWAY (NO_ERROR), ends the open streams (reset) and closes once the socket has written it. */
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
    const pending = this.pending;
    if (pending === undefined) return this.parse(chunk);
    this.pending = undefined;
    if (this.prefaceSeen && pending.length >= FRAME_HEADER_BYTES) {
      // A frame split between reads: copy only its rest, not the whole new chunk.
      const need = FRAME_HEADER_BYTES + frameLength(pending, 0) - pending.length;
      if (chunk.length >= need) {
        this.parse(Buffer.concat([pending, chunk.subarray(0, need)]));
        if (!this.closed) this.parse(chunk.subarray(need));
        return;
      }
    }
    this.parse(Buffer.concat([pending, chunk]));
  }

  /** Handles the preface and the whole frames in `buf`; keeps the rest in `pending`. */
  private parse(buf: Buffer): void {
    let pos = 0;
    if (!this.prefaceSeen) {
      const n = Math.min(buf.length, CLIENT_PREFACE.length);
      // Compared as it arrives, so an HTTP/1.1 request shorter than the preface is refused at once.
      if (buf.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'bad client preface'); // §3.4
      if (n < CLIENT_PREFACE.length) {
        this.pending = buf;
        return;
      }
      this.prefaceSeen = true;
      pos = CLIENT_PREFACE.length;
    }
    while (buf.length - pos >= FRAME_HEADER_BYTES) {
      const length = frameLength(buf, pos);
      // We never raise SETTINGS_MAX_FRAME_SIZE (§4.2).
      if (length > DEFAULT_MAX_FRAME_SIZE) return this.fail(H2Error.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
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
    if (!this.settingsSeen) {
      if (type !== FrameType.SETTINGS || (flags & ACK) !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'first frame not SETTINGS'); // §3.4
      this.settingsSeen = true;
    }
    if (this.headerBlock !== undefined && type !== FrameType.CONTINUATION) {
      return this.fail(H2Error.PROTOCOL_ERROR, 'expected CONTINUATION'); // §6.10
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.RST_STREAM:
        return this.onRstStream(streamId, payload);
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'PING on a stream'); // §6.7
        if (payload.length !== 8) return this.fail(H2Error.FRAME_SIZE_ERROR, 'PING payload');
        if ((flags & ACK) === 0) {
          this.emitFrame(FrameType.PING, ACK, 0, payload);
          this.countControl();
        }
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.GOAWAY:
        if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'GOAWAY on a stream'); // §6.8
        if (payload.length < 8) return this.fail(H2Error.FRAME_SIZE_ERROR, 'GOAWAY payload');
        // The client opens no more streams; the ones open finish, then it closes the socket.
        return;
      case FrameType.PUSH_PROMISE:
        return this.fail(H2Error.PROTOCOL_ERROR, 'PUSH_PROMISE from a client'); // §8.4
      case FrameType.PRIORITY:
        if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'PRIORITY on stream 0'); // §6.3
        if (payload.length !== 5) {
          // A stream error (§6.3), but RST_STREAM may not name an idle stream (§6.4).
          if (this.isIdle(streamId)) return this.fail(H2Error.FRAME_SIZE_ERROR, 'PRIORITY payload');
          const stream = this.streams.get(streamId);
          if (stream === undefined) this.refuse(streamId, H2Error.FRAME_SIZE_ERROR);
          else this.resetForPeer(stream, H2Error.FRAME_SIZE_ERROR);
        }
        return;
      default:
        return; // unknown frame types are ignored (§4.1)
    }
  }

  /** The payload of a frame without its padding (§6.1); undefined when the padding is too long. */
  private unpad(flags: number, payload: Buffer): Buffer | undefined {
    if ((flags & PADDED) === 0) return payload;
    if (payload.length < 1) return undefined;
    const end = payload.length - payload[0]!;
    return end < 1 ? undefined : payload.subarray(1, end);
  }

  /** Neither opened nor passed over by the client yet (§5.1); we open no even streams. */
  private isIdle(streamId: number): boolean {
    return streamId > this.lastStreamId || streamId % 2 === 0;
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'DATA on stream 0'); // §6.1
    // The whole frame counts against the windows, padding included, whatever its stream (§6.9).
    this.connRecvWindow -= payload.length;
    if (this.connRecvWindow < 0) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.connRecvUnacked += payload.length;
    if (this.connRecvUnacked >= CONNECTION_RECV_WINDOW / 2) {
      this.emitWindowUpdate(0, this.connRecvUnacked);
      this.connRecvWindow += this.connRecvUnacked;
      this.connRecvUnacked = 0;
    }
    const data = this.unpad(flags, payload);
    if (data === undefined) return this.fail(H2Error.PROTOCOL_ERROR, 'bad padding');
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.isIdle(streamId)) return this.fail(H2Error.PROTOCOL_ERROR, 'DATA on an idle stream'); // §5.1
      return; // a closed stream: the client may have sent this before it saw our END_STREAM or RST_STREAM
    }
    if (stream.remoteEnded) return this.resetForPeer(stream, H2Error.STREAM_CLOSED); // §5.1 half-closed (remote)
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.resetForPeer(stream, H2Error.FLOW_CONTROL_ERROR);
    const endStream = (flags & END_STREAM) !== 0;
    if (endStream) {
      // Set first, so an answer given from onData does not reset a request that is complete.
      stream.remoteEnded = true;
    } else {
      stream.recvUnacked += payload.length;
      if (stream.recvUnacked >= STREAM_RECV_WINDOW / 2) {
        this.emitWindowUpdate(stream.id, stream.recvUnacked);
        stream.recvWindow += stream.recvUnacked;
        stream.recvUnacked = 0;
      }
    }
    if (data.length > 0) stream.onData?.(data);
    if (endStream && !stream.closed) stream.onEnd?.();
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'HEADERS on stream 0'); // §6.2
    const fragment = this.unpad(flags, payload);
    if (fragment === undefined) return this.fail(H2Error.PROTOCOL_ERROR, 'bad padding');
    let block = fragment;
    let selfDependent = false;
    if ((flags & PRIORITY_FLAG) !== 0) {
      if (fragment.length < 5) return this.fail(H2Error.FRAME_SIZE_ERROR, 'short HEADERS');
      selfDependent = (fragment.readUInt32BE(0) & 0x7fffffff) === streamId;
      block = fragment.subarray(5);
    }
    const endStream = (flags & END_STREAM) !== 0;
    if ((flags & END_HEADERS) === 0) {
      // Copied: the block outlives this input chunk.
      const bytes = Buffer.allocUnsafe(Math.max(2 * block.length, 4096));
      block.copy(bytes);
      this.headerBlock = { streamId, endStream, selfDependent, bytes, length: block.length };
      return;
    }
    this.onHeaderBlock(streamId, endStream, selfDependent, block);
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const partial = this.headerBlock;
    if (partial === undefined || partial.streamId !== streamId) return this.fail(H2Error.PROTOCOL_ERROR, 'unexpected CONTINUATION'); // §6.10
    const length = partial.length + payload.length;
    // A block is decoded only once whole (the table must stay in step), so it is bounded while it grows (§10.5.1).
    if (length > this.options.maxHeaderListBytes) return this.fail(H2Error.ENHANCE_YOUR_CALM, 'header block too large');
    if (length > partial.bytes.length) {
      const bytes = Buffer.allocUnsafe(Math.max(length, 2 * partial.bytes.length));
      partial.bytes.copy(bytes, 0, 0, partial.length);
      partial.bytes = bytes;
    }
    payload.copy(partial.bytes, partial.length);
    partial.length = length;
    if ((flags & END_HEADERS) === 0) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(streamId, partial.endStream, partial.selfDependent, partial.bytes.subarray(0, length));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, selfDependent: boolean, block: Buffer): void {
    // Decoded whatever becomes of the stream: the decoder's table must follow the client's.
    const fields: string[] = [];
    const error = this.decoder.decode(block, fields);
    if (error !== undefined && !error.startsWith('header list too large')) return this.fail(H2Error.COMPRESSION_ERROR, error); // §4.3
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      if (existing.remoteEnded) return this.resetForPeer(existing, H2Error.STREAM_CLOSED); // §5.1 half-closed (remote)
      // Trailers from the client (§8.1): they must end the stream; gRPC puts nothing in them.
      if (!endStream) return this.resetForPeer(existing, H2Error.PROTOCOL_ERROR);
      existing.remoteEnded = true;
      existing.onEnd?.();
      return;
    }
    if (streamId % 2 === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'HEADERS on an even stream'); // §5.1.1
    if (streamId <= this.lastStreamId) {
      if (this.wasSkipped(streamId)) return this.fail(H2Error.PROTOCOL_ERROR, 'stream id decreased'); // §5.1.1
      // A stream that is over: the client may have sent this before it saw our RST_STREAM (§5.1).
      return;
    }
    this.noteSkipped(streamId);
    this.lastStreamId = streamId;
    // A list too large is refused here, its table changes kept; self-dependency is a stream error (§5.3.1).
    if (error !== undefined || selfDependent) return this.refuse(streamId, H2Error.PROTOCOL_ERROR);
    if (this.streams.size >= this.options.maxConcurrentStreams) return this.refuse(streamId, H2Error.REFUSED_STREAM); // §5.1.2
    const stream = new H2Stream(streamId, this, this.peerInitialWindow, this.localInitialWindow);
    this.streams.set(streamId, stream);
    // Set first, so an answer given from onStream does not reset a request that is complete.
    if (endStream) stream.remoteEnded = true;
    this.options.onStream(stream, fields);
    if (endStream && !stream.closed) stream.onEnd?.();
  }

  /** Remembers the ids a new stream `streamId` jumps over: they are closed now (§5.1.1). */
  private noteSkipped(streamId: number): void {
    const first = this.lastStreamId === 0 ? 1 : this.lastStreamId + 2;
    if (streamId === first) return;
    this.skipped.push(first, streamId - 2);
    if (this.skipped.length > 2 * MAX_SKIPPED_RANGES) this.skipped.splice(0, 2);
  }

  private wasSkipped(streamId: number): boolean {
    for (let i = 0; i < this.skipped.length; i += 2) {
      if (streamId >= this.skipped[i]! && streamId <= this.skipped[i + 1]!) return true;
    }
    return false;
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'RST_STREAM on stream 0'); // §6.4
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, 'RST_STREAM payload');
    if (this.isIdle(streamId)) return this.fail(H2Error.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (!this.spendReset()) return this.fail(H2Error.ENHANCE_YOUR_CALM, 'too many stream resets');
    this.closeStream(stream, true);
  }

  /** Takes one reset from the budget; false when it is spent. */
  private spendReset(): boolean {
    const now = performance.now();
    this.resetBudget = Math.min(RESET_BURST, this.resetBudget + ((now - this.resetBudgetAt) * RESETS_PER_SECOND) / 1000);
    this.resetBudgetAt = now;
    if (this.resetBudget < 1) return false;
    this.resetBudget -= 1;
    return true;
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(H2Error.PROTOCOL_ERROR, 'SETTINGS on a stream'); // §6.5
    if ((flags & ACK) !== 0) {
      if (payload.length !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      this.onSettingsAck();
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(H2Error.FRAME_SIZE_ERROR, 'SETTINGS payload');
    let windowGrew = false;
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'INITIAL_WINDOW_SIZE too large'); // §6.5.2
        // §6.9.2: the change applies to every open stream's window, which may not pass 2^31-1.
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        if (delta > 0) windowGrew = true;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW_SIZE) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'stream window above 2^31-1');
        }
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
    this.countControl();
    if (!windowGrew || this.closed) return;
    for (const s of [...this.streams.values()]) if (s.queue.length > 0 && s.sendWindow > 0) this.sendQueued(s);
  }

  /**
   * The client has applied our SETTINGS: from now on its streams start with our window, and the
   * streams already open grow by the difference as they do on its side (§6.9.2).
   */
  private onSettingsAck(): void {
    if (this.localInitialWindow === STREAM_RECV_WINDOW) return; // we send SETTINGS once
    const delta = STREAM_RECV_WINDOW - this.localInitialWindow;
    this.localInitialWindow = STREAM_RECV_WINDOW;
    for (const s of this.streams.values()) s.recvWindow += delta;
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(H2Error.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload'); // §6.9
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW_SIZE) return this.fail(H2Error.FLOW_CONTROL_ERROR, 'connection window above 2^31-1'); // §6.9.1
      if (this.blocked.size === 0) return;
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const s of waiting) this.sendQueued(s);
      return;
    }
    if (this.isIdle(streamId)) return this.fail(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream'); // §5.1
    const stream = this.streams.get(streamId);
    if (stream === undefined) return; // a closed stream: allowed for a while (§5.1)
    if (increment === 0) return this.resetForPeer(stream, H2Error.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) return this.resetForPeer(stream, H2Error.FLOW_CONTROL_ERROR); // §6.9.1
    this.sendQueued(stream);
  }

  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void {
    // A block larger than the peer's frame size continues in CONTINUATION frames (§6.10); they
    // are emitted together, so no other frame comes between them.
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
    if (stream.needDrain && stream.queuedBytes < STREAM_HIGH_WATER_BYTES && this.socketWritable) {
      this.drain(stream);
      if (stream.closed) return;
    }
    const trailers = stream.trailers;
    if (trailers !== undefined && stream.queue.length === 0) {
      stream.trailers = undefined;
      this.sendHeaders(stream, trailers, true);
    }
  }

  awaitDrain(stream: H2Stream): void {
    this.drainWaiters.add(stream);
  }

  private drain(stream: H2Stream): void {
    stream.needDrain = false;
    this.drainWaiters.delete(stream);
    stream.onDrain?.();
  }

  /** We have sent END_STREAM on `stream`. */
  private localEndDone(stream: H2Stream): void {
    stream.localEnded = true;
    if (!stream.remoteEnded) {
      // The answer is complete; the client need not send the rest of its request (§8.1).
      this.emitRstStream(stream.id, H2Error.NO_ERROR);
    }
    this.closeStream(stream, false);
  }

  resetStream(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    this.emitRstStream(stream.id, code);
    this.closeStream(stream, true);
  }

  /** A stream error caused by the peer (§5.4.2): counted as an answer the peer must read. */
  private resetForPeer(stream: H2Stream, code: number): void {
    this.resetStream(stream, code);
    this.countControl();
  }

  /** RST_STREAM for a stream that was never served (refused, or already over). */
  private refuse(streamId: number, code: number): void {
    this.emitRstStream(streamId, code);
    this.countControl();
  }

  private closeStream(stream: H2Stream, reset: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.drainWaiters.delete(stream);
    stream.queue.length = 0;
    stream.queuedBytes = 0;
    stream.trailers = undefined;
    stream.onClose?.(reset);
  }

  /**
   * Called after queueing an answer the peer's frame asked for. While the socket is backed up
   * these pile up only if the peer sends without reading: past a bound, it is cut off.
   */
  private countControl(): void {
    if (this.socketWritable) {
      this.controlBacklog = 0;
      return;
    }
    if (++this.controlBacklog > MAX_CONTROL_BACKLOG) this.fail(H2Error.ENHANCE_YOUR_CALM, 'too many answers unread');
  }

  private emitRstStream(streamId: number, code: number): void {
    this.emitFourByteFrame(FrameType.RST_STREAM, streamId, code);
  }

  private emitWindowUpdate(streamId: number, increment: number): void {
    this.emitFourByteFrame(FrameType.WINDOW_UPDATE, streamId, increment);
  }

  /** A frame whose payload is one 32-bit value, written straight into the output. */
  private emitFourByteFrame(type: number, streamId: number, value: number): void {
    const slab = this.out.reserve(FOUR_BYTE_FRAME);
    const at = this.out.offset;
    writeFrameHeader(slab, at, 4, type, 0, streamId);
    slab.writeUInt32BE(value, at + FRAME_HEADER_BYTES);
    this.out.commit(FOUR_BYTE_FRAME);
    this.scheduleFlush();
  }

  private emitFrame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    const slab = this.out.reserve(FRAME_HEADER_BYTES + payload.length);
    const at = this.out.offset;
    writeFrameHeader(slab, at, payload.length, type, flags, streamId);
    slab.set(payload, at + FRAME_HEADER_BYTES);
    this.out.commit(FRAME_HEADER_BYTES + payload.length);
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
    if (chunks.length === 0 || this.socket.destroyed || this.socket.writableEnded) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  private onSocketDrain(): void {
    if (this.drainWaiters.size === 0) return;
    for (const s of [...this.drainWaiters]) {
      if (!this.socketWritable) return;
      if (s.needDrain && s.queuedBytes < STREAM_HIGH_WATER_BYTES) this.drain(s);
    }
  }

  /** A connection error (§5.4.1): GOAWAY with `code`, the streams reset, then the socket closes. */
  private fail(code: number, debug: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.headerBlock = undefined;
    clearTimeout(this.keepAliveTimer);
    this.out.append(goAwayFrame(this.lastStreamId, code, debug));
    this.flush();
    this.socket.end();
    // A client that does not read would hold the socket forever; one that does not close its
    // side is not waited for long.
    if (!this.socketWritable) this.socket.destroy();
    else setTimeout(() => this.socket.destroy(), 1000).unref();
    for (const s of [...this.streams.values()]) this.closeStream(s, true);
  }

  private onSocketClose(): void {
    this.closed = true;
    this.pending = undefined;
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

/** The payload length in the frame header at `pos` (§4.1). */
function frameLength(buf: Buffer, pos: number): number {
  return (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
}
