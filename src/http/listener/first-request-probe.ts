/**
 * Decides, per HTTP/2 connection, whether its requests need their `:authority` repaired (see
 * hpack-authority.ts) before the connection is handed to the gRPC server. Repairing means
 * wrapping the socket in a JavaScript stream, which costs Node's HTTP/2 server its native I/O
 * path (~10-15% of the CPU of a put); most clients send a valid authority and need none of it.
 *
 * A client's first request tells: one connection carries one authority, and the first header
 * block cannot refer to the dynamic table, so it holds the authority literally. But gRPC clients
 * send their first request only after the server's SETTINGS have arrived, and the server
 * (nghttp2) sends those only once it has the socket. So the probe sends an empty SETTINGS frame
 * itself (all defaults: it changes nothing; RFC 9113 §6.5 allows any number of SETTINGS frames),
 * holds the client's bytes until the first header block and the ACK of that SETTINGS frame have
 * arrived, removes the ACK (the HTTP/2 server never sent that frame), and hands over.
 */

import type { Socket } from 'node:net';
import { ACK, CLIENT_PREFACE, END_HEADERS, FRAME_HEADER_BYTES, FrameType } from '../../pkg/h2/frames.js';
import { headersFragment } from './h2-frame.js';
import { rewriteAuthorityInBlock } from './hpack-authority.js';


/** An empty SETTINGS frame on stream 0. */
export const EMPTY_SETTINGS_FRAME = Buffer.from([0, 0, 0, FrameType.SETTINGS, 0, 0, 0, 0, 0]);

/** How a connection is served: `native` gets the socket itself; `repair` goes through the rewriter. */
export type ProbeVerdict = 'native' | 'repair';

/** Limits of {@link probeFirstRequest}. */
export interface ProbeLimits {
  /** After the ACK, how long to wait for a first request before choosing `repair` (always safe). */
  firstRequestMs: number;
  /** How long a client may take to acknowledge the SETTINGS frame before it is dropped. */
  ackMs: number;
  /** Bytes held before the connection is dropped (flow control bounds an honest client far below). */
  maxHeldBytes: number;
}

export const DEFAULT_PROBE_LIMITS: ProbeLimits = { firstRequestMs: 200, ackMs: 10_000, maxHeldBytes: 1024 * 1024 };

/**
 * Reads the client's frames as they arrive (pure, no I/O): the bytes to hand over (everything
 * but the ACK of our SETTINGS), whether that ACK was seen, and the first header block.
 */
export class FirstRequestScanner {
  private pending: Buffer = Buffer.alloc(0);
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  ackSeen = false;
  /** Fragments of the first header block, and whether it is complete. */
  private fragments: Buffer[] | undefined;
  blockComplete = false;

  /** `head` starts with the 24-byte client preface. */
  constructor(head: Buffer) {
    this.keep(head.subarray(0, CLIENT_PREFACE.length));
    this.write(head.subarray(CLIENT_PREFACE.length));
  }

  /** Bytes held so far. */
  get heldBytes(): number {
    return this.keptBytes + this.pending.length;
  }

  /** The bytes to hand over, in order: the whole frames kept and any partial frame. */
  takeHeld(): Buffer {
    const out = Buffer.concat([...this.kept, this.pending]);
    this.kept.length = 0;
    this.keptBytes = 0;
    this.pending = Buffer.alloc(0);
    return out;
  }

  /** Whether the first request's authority needs the rewriter; undefined until the block is complete. */
  needsRepair(): boolean | undefined {
    if (!this.blockComplete || this.fragments === undefined) return undefined;
    return rewriteAuthorityInBlock(Buffer.concat(this.fragments)) !== undefined;
  }

  write(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buf.length >= FRAME_HEADER_BYTES) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < FRAME_HEADER_BYTES + length) break;
      const frame = buf.subarray(0, FRAME_HEADER_BYTES + length);
      buf = buf.subarray(frame.length);
      this.onFrame(frame);
    }
    this.pending = buf;
  }

  private keep(bytes: Buffer): void {
    this.kept.push(bytes);
    this.keptBytes += bytes.length;
  }

  private onFrame(frame: Buffer): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const payload = frame.subarray(FRAME_HEADER_BYTES);
    if (type === FrameType.SETTINGS && (flags & ACK) !== 0 && payload.length === 0 && !this.ackSeen) {
      this.ackSeen = true; // the first ACK answers our SETTINGS: the server never sent it
      return;
    }
    this.keep(frame);
    if (this.blockComplete) return;
    if (type === FrameType.HEADERS && this.fragments === undefined) {
      this.fragments = [headersFragment(flags, payload)?.fragment ?? Buffer.alloc(0)];
      this.blockComplete = (flags & END_HEADERS) !== 0;
    } else if (type === FrameType.CONTINUATION && this.fragments !== undefined) {
      this.fragments.push(payload);
      this.blockComplete = (flags & END_HEADERS) !== 0;
    }
  }
}

/**
 * Probes a gRPC connection whose first bytes (`head`, starting with the preface) were read:
 * sends our SETTINGS, holds the client's bytes, and calls `decide` once with the verdict and the
 * bytes to put back in front of the socket's stream. A client that misbehaves is destroyed and
 * `decide` is not called.
 */
export function probeFirstRequest(socket: Socket, head: Buffer, limits: ProbeLimits, decide: (verdict: ProbeVerdict, held: Buffer) => void): void {
  const scanner = new FirstRequestScanner(head);
  let done = false;
  let firstRequestTimer: NodeJS.Timeout | undefined;
  const finish = (verdict: ProbeVerdict | 'drop'): void => {
    if (done) return;
    done = true;
    clearTimeout(ackTimer);
    clearTimeout(firstRequestTimer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    if (verdict === 'drop') {
      socket.destroy();
      return;
    }
    socket.pause();
    decide(verdict, scanner.takeHeld());
  };
  const check = (): void => {
    if (scanner.heldBytes > limits.maxHeldBytes) return finish('drop');
    if (!scanner.ackSeen) return;
    const repair = scanner.needsRepair();
    if (repair !== undefined) return finish(repair ? 'repair' : 'native');
    firstRequestTimer ??= setTimeout(() => finish('repair'), limits.firstRequestMs);
  };
  const onData = (chunk: Buffer): void => {
    scanner.write(chunk);
    check();
  };
  const onClose = (): void => finish('drop');
  const ackTimer = setTimeout(() => finish('drop'), limits.ackMs);
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.write(EMPTY_SETTINGS_FRAME);
  check();
  socket.resume();
}
