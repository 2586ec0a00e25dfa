/**
 * WAL records and their on-disk frames, in etcd's format so the files read the same:
 *
 *   frame  = length (8 bytes, little-endian) ++ record ++ zero padding to a multiple of 8
 *   length = low 56 bits: record size; top byte: 0x80 | padding when padding > 0, else 0
 *   record = walpb.Record { type int64 = 1; crc uint32 = 2; data bytes = 3 } (protobuf)
 *
 * The 8-byte alignment means a frame's length word never straddles a sector, so it cannot be torn.
 * `crc` is a running CRC-32C chained across every record's data since the log began (a `crc`
 * record at the head of each segment carries the running value over); it detects both damage and
 * records from another log spliced in.
 */
import { encodeEntryTo, encodeHardStateTo, encodedSizeEntry, encodedSizeHardState, sizeVarint, writeVarint } from '../api/raftpb/codec.js';
import type { Entry, HardState } from '../api/raftpb/types.js';
import { update as crcUpdate } from '../pkg/crc32c.js';

/** walpb record types, with etcd's numbering. */
export enum RecordType {
  Metadata = 1,
  Entry = 2,
  State = 3,
  Crc = 4,
  Snapshot = 5,
}

/** A snapshot marker: the log was snapshotted at `index` (whose entry has `term`). */
export interface WalSnapshot {
  index: number;
  term: number;
}

/** Largest frame header before the data: length word, type tag+value, crc tag+5 bytes, data tag+length. */
function maxHeaderSize(dataSize: number): number {
  return 8 + 2 + 6 + 1 + sizeVarint(dataSize);
}

/**
 * Appends framed records to a growable buffer, keeping the running CRC. One encoder per WAL; the
 * buffer is reused between writes (the caller writes `bytes()` out before the next `reset()`).
 */
export class RecordEncoder {
  private buf = new Uint8Array(64 * 1024);
  /** Bytes of complete frames in `buf`. */
  private len = 0;

  constructor(
    /** The running CRC after the last record appended. */
    public crc: number,
  ) {}

  /** Forgets the buffered frames (the CRC carries on). */
  reset(): void {
    this.len = 0;
    // A buffer that grew for a huge batch is not kept forever.
    if (this.buf.length > 16 * 1024 * 1024) this.buf = new Uint8Array(64 * 1024);
  }

  /** The complete frames appended since the last reset, as a view of the internal buffer. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Number of buffered bytes. */
  get size(): number {
    return this.len;
  }

  /** Appends an entry record. */
  appendEntry(e: Entry): void {
    const size = encodedSizeEntry(e);
    const dataPos = this.begin(size);
    encodeEntryTo(e, this.buf, dataPos);
    this.finish(RecordType.Entry, dataPos, size);
  }

  /** Appends a hard state record. */
  appendHardState(hs: HardState): void {
    const size = encodedSizeHardState(hs);
    const dataPos = this.begin(size);
    encodeHardStateTo(hs, this.buf, dataPos);
    this.finish(RecordType.State, dataPos, size);
  }

  /** Appends a snapshot marker (walpb.Snapshot { index = 1; term = 2 }). */
  appendSnapshot(s: WalSnapshot): void {
    const size = 2 + sizeVarint(s.index) + sizeVarint(s.term);
    const dataPos = this.begin(size);
    const buf = this.buf;
    let p = dataPos;
    buf[p++] = 0x08;
    p = writeVarint(buf, p, s.index);
    buf[p++] = 0x10;
    writeVarint(buf, p, s.term);
    this.finish(RecordType.Snapshot, dataPos, size);
  }

  /** Appends a metadata record carrying opaque bytes (etcd: the node and cluster IDs). */
  appendMetadata(metadata: Uint8Array): void {
    const dataPos = this.begin(metadata.length);
    this.buf.set(metadata, dataPos);
    this.finish(RecordType.Metadata, dataPos, metadata.length);
  }

  /** Appends a crc record holding the running CRC, as every segment begins with. */
  appendCrc(): void {
    this.ensure(24);
    const buf = this.buf;
    const start = this.len;
    let p = start + 8;
    buf[p++] = 0x08;
    buf[p++] = RecordType.Crc;
    buf[p++] = 0x10;
    p = writeVarint(buf, p, this.crc);
    this.seal(start, p - start - 8);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Reserves room for a frame whose data is `dataSize` bytes; returns where the data goes. */
  private begin(dataSize: number): number {
    const max = maxHeaderSize(dataSize);
    this.ensure(max + dataSize + 8);
    return this.len + max;
  }

  /** Checksums the data written at `dataPos`, writes the header before it and seals the frame. */
  private finish(type: RecordType, dataPos: number, dataSize: number): void {
    const buf = this.buf;
    const crc = crcUpdate(this.crc, buf, dataPos, dataPos + dataSize);
    this.crc = crc;
    const start = this.len;
    let p = start + 8;
    buf[p++] = 0x08;
    buf[p++] = type;
    buf[p++] = 0x10;
    p = writeVarint(buf, p, crc);
    if (dataSize > 0) {
      buf[p++] = 0x1a;
      p = writeVarint(buf, p, dataSize);
      // The header is usually exactly the reserved size (a CRC needs 5 bytes 15 times in 16).
      if (p !== dataPos) buf.copyWithin(p, dataPos, dataPos + dataSize);
      p += dataSize;
    }
    this.seal(start, p - start - 8);
  }

  /** Writes the length word of the frame at `start` holding `recSize` record bytes, and its padding. */
  private seal(start: number, recSize: number): void {
    const buf = this.buf;
    const pad = (8 - (recSize % 8)) % 8;
    buf[start] = recSize & 0xff;
    buf[start + 1] = (recSize >>> 8) & 0xff;
    buf[start + 2] = (recSize >>> 16) & 0xff;
    buf[start + 3] = (recSize >>> 24) & 0xff;
    buf[start + 4] = 0;
    buf[start + 5] = 0;
    buf[start + 6] = 0;
    buf[start + 7] = pad === 0 ? 0 : 0x80 | pad;
    const end = start + 8 + recSize;
    buf.fill(0, end, end + pad);
    this.len = end + pad;
  }
}

/** A frame parsed from a segment. Offsets are into the segment buffer. */
export interface Frame {
  type: number;
  crc: number;
  /** Start and end of the record's data (equal when it has none). */
  dataStart: number;
  dataEnd: number;
  /** Offset just past the record (before the padding). */
  recEnd: number;
  /** Offset just past the frame's padding: where the next frame starts. */
  frameEnd: number;
}

/** Why a frame could not be parsed; `pastEnd` when it claims bytes beyond the end of the buffer. */
export interface FrameProblem {
  reason: string;
  pastEnd: boolean;
  /** End of the record its length word claims, or of the length word itself when that is bad. */
  extentEnd: number;
}

/**
 * Parses the frame at `off` (which must have at least 8 bytes and a non-zero length word).
 * Returns the frame, or a problem. Does not check the CRC, which needs the running value.
 */
export function parseFrame(buf: Uint8Array, off: number): Frame | FrameProblem {
  const lo = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  const flags = buf[off + 7]!;
  if (buf[off + 4]! !== 0 || buf[off + 5]! !== 0 || buf[off + 6]! !== 0) return { reason: 'frame length above 4 GiB', pastEnd: false, extentEnd: off + 8 };
  if (flags !== 0 && (flags & 0xf8) !== 0x80) return { reason: `bad frame flags 0x${flags.toString(16)}`, pastEnd: false, extentEnd: off + 8 };
  const pad = flags & 7;
  if ((lo + pad) % 8 !== 0) return { reason: `frame of ${lo} bytes with ${pad} padding bytes is not 8-byte aligned`, pastEnd: false, extentEnd: off + 8 };
  if (lo === 0) return { reason: 'empty record', pastEnd: false, extentEnd: off + 8 };
  const recStart = off + 8;
  const recEnd = recStart + lo;
  const frameEnd = recEnd + pad;
  if (frameEnd > buf.length) return { reason: `frame of ${lo} bytes runs past the end of the file`, pastEnd: true, extentEnd: buf.length };
  // walpb.Record: type = 1 (varint), crc = 2 (varint), data = 3 (bytes); gogoproto writes them in order.
  let p = recStart;
  let type = -1;
  let crc = -1;
  let dataStart = recEnd;
  let dataEnd = recEnd;
  while (p < recEnd) {
    const tag = buf[p++]!;
    if (tag === 0x08 || tag === 0x10) {
      let v = 0;
      let mul = 1;
      let b = 0x80;
      for (let i = 0; i < 10 && b >= 0x80; i++) {
        if (p >= recEnd) return { reason: 'truncated record varint', pastEnd: false, extentEnd: recEnd };
        b = buf[p++]!;
        v += (b & 0x7f) * mul;
        mul *= 128;
      }
      if (b >= 0x80) return { reason: 'record varint too long', pastEnd: false, extentEnd: recEnd };
      if (tag === 0x08) type = v;
      else if (v > 0xffffffff) return { reason: 'record crc above 32 bits', pastEnd: false, extentEnd: recEnd };
      else crc = v;
    } else if (tag === 0x1a) {
      let len = 0;
      let mul = 1;
      let b = 0x80;
      for (let i = 0; i < 5 && b >= 0x80; i++) {
        if (p >= recEnd) return { reason: 'truncated record data length', pastEnd: false, extentEnd: recEnd };
        b = buf[p++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
      }
      if (b >= 0x80 || p + len > recEnd) return { reason: 'record data length runs past the record', pastEnd: false, extentEnd: recEnd };
      dataStart = p;
      dataEnd = p + len;
      p = dataEnd;
    } else {
      return { reason: `unexpected record field tag 0x${tag.toString(16)}`, pastEnd: false, extentEnd: recEnd };
    }
  }
  if (type < RecordType.Metadata || type > RecordType.Snapshot) return { reason: `unknown record type ${type}`, pastEnd: false, extentEnd: recEnd };
  if (crc < 0) return { reason: 'record without crc', pastEnd: false, extentEnd: recEnd };
  if (type === RecordType.Crc && dataEnd > dataStart) return { reason: 'crc record with data', pastEnd: false, extentEnd: recEnd };
  for (let i = recEnd; i < frameEnd; i++) {
    if (buf[i] !== 0) return { reason: 'non-zero frame padding', pastEnd: false, extentEnd: recEnd };
  }
  return { type, crc, dataStart, dataEnd, recEnd, frameEnd };
}

/** Whether a parseFrame result is a frame. */
export function isFrame(f: Frame | FrameProblem): f is Frame {
  return (f as Frame).frameEnd !== undefined;
}

/** Decodes a walpb.Snapshot (index = 1, term = 2; a newer conf_state = 3 is skipped). */
export function decodeWalSnapshot(buf: Uint8Array, start: number, end: number): WalSnapshot | string {
  let index = 0;
  let term = 0;
  let p = start;
  while (p < end) {
    const tag = buf[p++]!;
    if (tag === 0x08 || tag === 0x10) {
      let v = 0;
      let mul = 1;
      let b = 0x80;
      for (let i = 0; i < 8 && b >= 0x80; i++) {
        if (p >= end) return 'truncated snapshot varint';
        b = buf[p++]!;
        v += (b & 0x7f) * mul;
        mul *= 128;
      }
      if (b >= 0x80 || v > Number.MAX_SAFE_INTEGER) return 'snapshot index or term above 2^53';
      if (tag === 0x08) index = v;
      else term = v;
    } else if (tag === 0x1a) {
      let len = 0;
      let mul = 1;
      let b = 0x80;
      for (let i = 0; i < 5 && b >= 0x80; i++) {
        if (p >= end) return 'truncated snapshot field';
        b = buf[p++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
      }
      p += len;
      if (b >= 0x80 || p > end) return 'snapshot field runs past the record';
    } else {
      return `unexpected snapshot field tag 0x${tag.toString(16)}`;
    }
  }
  return { index, term };
}
