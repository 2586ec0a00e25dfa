/**
 * Splits the byte stream of a raft stream into frames. A frame is a 4-byte big-endian length
 * followed by that many bytes; a zero-length frame is a keepalive. A frame that lies whole
 * inside one received chunk is handed out as a view of that chunk (no copy); one that spans
 * chunks is assembled into a buffer of its own once complete (memory follows the bytes that
 * actually arrived, not a length prefix a broken peer announced).
 */
export class FrameDecoder {
  /** Bytes of a length prefix split across chunks. invariant: headerFill < 4. */
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  /** Pieces of the frame being assembled across chunks, their total, and the frame's length (-1: none). */
  private parts: Buffer[] = [];
  private partsFill = 0;
  private partialLen = -1;

  /** @param maxFrameBytes largest frame body accepted; a longer length prefix is an error */
  constructor(private readonly maxFrameBytes: number) {}

  /** Whether bytes of an unfinished frame are buffered. */
  get pending(): boolean {
    return this.headerFill > 0 || this.partialLen >= 0;
  }

  /**
   * Feeds one chunk, calling `onFrame(buf, start, end)` for each complete frame in order. `buf`
   * is a plain Uint8Array (so subarrays a decoder takes of it are cheap views, not Buffers) over
   * the chunk's memory; it stays valid (chunks are never reused). Returns an error text if a length prefix exceeds
   * the limit: the stream is then broken and the decoder must not be fed again. Exceptions
   * thrown by `onFrame` propagate.
   */
  push(chunk: Buffer, onFrame: (buf: Uint8Array, start: number, end: number) => void): string | undefined {
    const n = chunk.length;
    let pos = 0;
    let view: Uint8Array | undefined;
    while (pos < n) {
      if (this.partialLen >= 0) {
        const take = Math.min(this.partialLen - this.partsFill, n - pos);
        this.parts.push(chunk.subarray(pos, pos + take));
        this.partsFill += take;
        pos += take;
        if (this.partsFill === this.partialLen) {
          const frame = new Uint8Array(this.partialLen);
          let at = 0;
          for (const p of this.parts) {
            frame.set(p, at);
            at += p.length;
          }
          this.parts = [];
          this.partsFill = 0;
          this.partialLen = -1;
          onFrame(frame, 0, frame.length);
        }
        continue;
      }
      let len: number;
      if (this.headerFill === 0 && n - pos >= 4) {
        len = chunk.readUInt32BE(pos);
        pos += 4;
      } else {
        while (this.headerFill < 4 && pos < n) this.header[this.headerFill++] = chunk[pos++]!;
        if (this.headerFill < 4) break;
        this.headerFill = 0;
        len = this.header.readUInt32BE(0);
      }
      if (len > this.maxFrameBytes) return `frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`;
      if (n - pos >= len) {
        view ??= new Uint8Array(chunk.buffer, chunk.byteOffset, n);
        onFrame(view, pos, pos + len);
        pos += len;
      } else {
        this.partialLen = len;
      }
    }
    return undefined;
  }
}
