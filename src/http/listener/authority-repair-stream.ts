/**
 * A duplex stream over a client socket that speaks HTTP/2 (prior knowledge), handed to the
 * gRPC server instead of the socket: bytes from the server go to the socket unchanged; bytes
 * from the client are split into frames (RFC 9113 §4.1) and every request header block
 * (HEADERS plus CONTINUATION frames) passes through {@link rewriteAuthorityInBlock}. Other
 * frames pass through without being buffered.
 */

import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { CLIENT_PREFACE, END_HEADERS, FRAME_HEADER_BYTES, FrameType, PADDED } from '../../pkg/h2/frames.js';
import { headersFragment } from './h2-frame.js';
import { rewriteAuthorityInBlock } from './hpack-authority.js';

/** The smallest SETTINGS_MAX_FRAME_SIZE a server may have (RFC 9113 §6.5.2). */
const MAX_FRAME = 16384;

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

/** Splits the client→server byte stream into frames and repairs header blocks. */
export class RequestHeaderRewriter {
  private prefaceLeft = CLIENT_PREFACE.length;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Payload bytes of the current frame still to pass through unbuffered. */
  private passLeft = 0;
  /** Payload bytes of the current HEADERS/CONTINUATION frame still to collect. */
  private collectLeft = 0;
  private collectParts: Buffer[] = [];
  private currentHeader = Buffer.alloc(0);
  /** The header block being assembled, and the frames that carried it as received. */
  private block: { streamId: number; flags: number; priority: Buffer | undefined; fragments: Buffer[]; frames: Buffer[] } | undefined;

  constructor(private readonly emit: (bytes: Buffer) => void) {}

  /**
   * Consumes bytes from the client, emitting them (repaired) in order. Bytes passed through
   * unchanged (the preface, and whole frames other than header blocks) are emitted as one view
   * of `chunk` per run rather than one per frame: every emit is a push through the stream.
   */
  write(chunk: Buffer): void {
    let off = 0;
    /** Start in `chunk` of the run of unchanged bytes not emitted yet (-1: none). */
    let run = -1;
    while (off < chunk.length) {
      const rest = chunk.length - off;
      if (this.prefaceLeft > 0 || this.passLeft > 0) {
        const left = this.prefaceLeft > 0 ? this.prefaceLeft : this.passLeft;
        const n = Math.min(left, rest);
        if (run < 0) run = off;
        if (this.prefaceLeft > 0) this.prefaceLeft -= n;
        else this.passLeft -= n;
        off += n;
        continue;
      }
      if (this.collectLeft === 0 && this.headerFill === 0 && rest >= FRAME_HEADER_BYTES && this.block === undefined && chunk[off + 3] !== FrameType.HEADERS) {
        // A whole frame header outside a header block, of a frame that passes unchanged.
        this.passLeft = chunk.readUIntBE(off, 3);
        if (run < 0) run = off;
        off += FRAME_HEADER_BYTES;
        continue;
      }
      if (run >= 0) {
        this.emit(chunk.subarray(run, off));
        run = -1;
      }
      if (this.collectLeft > 0) {
        const n = Math.min(this.collectLeft, rest);
        this.collectParts.push(chunk.subarray(off, off + n));
        this.collectLeft -= n;
        off += n;
        if (this.collectLeft === 0) this.frameCollected();
      } else {
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, rest);
        chunk.copy(this.header, this.headerFill, off, off + n);
        this.headerFill += n;
        off += n;
        if (this.headerFill === FRAME_HEADER_BYTES) {
          this.headerFill = 0;
          this.frameStarted();
        }
      }
    }
    if (run >= 0) this.emit(chunk.subarray(run, off));
  }

  private frameStarted(): void {
    const length = this.header.readUIntBE(0, 3);
    const type = this.header[3]!;
    if (type === FrameType.HEADERS || (type === FrameType.CONTINUATION && this.block !== undefined)) {
      this.currentHeader = Buffer.from(this.header);
      this.collectParts = [];
      this.collectLeft = length;
      if (length === 0) this.frameCollected();
      return;
    }
    // A frame interrupting a header block is the server's to reject: flush what we hold as is.
    this.flushBlockUnchanged();
    this.emit(Buffer.from(this.header));
    this.passLeft = length;
  }

  private frameCollected(): void {
    const header = this.currentHeader;
    const payload = this.collectParts.length === 1 ? this.collectParts[0]! : Buffer.concat(this.collectParts);
    this.collectParts = [];
    const type = header[3]!;
    const flags = header[4]!;
    if (type === FrameType.HEADERS) {
      this.flushBlockUnchanged();
      const parts = headersFragment(flags, payload);
      if (parts === undefined) {
        this.emit(Buffer.concat([header, payload]));
        return;
      }
      this.block = { streamId: header.readUInt32BE(5) & 0x7fffffff, flags, priority: parts.priority, fragments: [parts.fragment], frames: [header, payload] };
    } else {
      this.block!.fragments.push(payload);
      this.block!.frames.push(header, payload);
    }
    if ((flags & END_HEADERS) !== 0) this.finishBlock();
  }

  private finishBlock(): void {
    const block = this.block!;
    this.block = undefined;
    const rewritten = rewriteAuthorityInBlock(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
    if (rewritten === undefined) {
      for (const part of block.frames) this.emit(part);
      return;
    }
    // One HEADERS frame (padding dropped, priority kept), then CONTINUATION frames as needed.
    const priority = block.priority ?? Buffer.alloc(0);
    const firstRoom = MAX_FRAME - priority.length;
    const baseFlags = block.flags & ~(PADDED | END_HEADERS);
    let off = Math.min(firstRoom, rewritten.length);
    const first = rewritten.subarray(0, off);
    this.emit(frameHeader(priority.length + first.length, FrameType.HEADERS, baseFlags | (off === rewritten.length ? END_HEADERS : 0), block.streamId));
    this.emit(Buffer.concat([priority, first]));
    while (off < rewritten.length) {
      const part = rewritten.subarray(off, off + MAX_FRAME);
      off += part.length;
      this.emit(frameHeader(part.length, FrameType.CONTINUATION, off === rewritten.length ? END_HEADERS : 0, block.streamId));
      this.emit(part);
    }
  }

  private flushBlockUnchanged(): void {
    if (this.block === undefined) return;
    for (const part of this.block.frames) this.emit(part);
    this.block = undefined;
  }
}

/** Wraps `socket` (whose first bytes, `head`, were already read) as a repaired duplex. */
export function authorityRepairStream(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read(): void {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback): void {
      socket.write(chunk, callback);
    },
    // The HTTP/2 session hands over all the frames of one flush corked: send them in one writev
    // system call rather than one write per frame.
    writev(chunks: { chunk: Buffer }[], callback): void {
      socket.cork();
      for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!.chunk);
      socket.write(chunks[chunks.length - 1]!.chunk, callback);
      socket.uncork();
    },
    final(callback): void {
      socket.end(callback);
    },
    destroy(err, callback): void {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  const rewriter = new RequestHeaderRewriter((bytes) => {
    if (!duplex.push(bytes)) socket.pause();
  });
  rewriter.write(head);
  socket.on('data', (chunk: Buffer) => rewriter.write(chunk));
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', (err) => duplex.destroy(err));
  return duplex;
}
