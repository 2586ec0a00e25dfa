/**
 * Validates the frames of one WAL segment and tells a torn tail from corruption.
 *
 * A segment ends at a zero length word or at the end of the file (segments are preallocated
 * with zeros). In a segment that is not the last, every failure is corruption: the log is
 * fsynced before a new segment is created. In the last segment a failing frame is a torn write,
 * to be cut off, only when both hold:
 * - it looks torn: it runs past the end of the file, or everything from somewhere inside it to
 *   the end of the file is zero, or one of its 512-byte sectors is all zero (what an interrupted
 *   write leaves, as etcd's decoder also assumes);
 * - nothing valid follows: no two consecutive frames after it parse and chain their CRCs. Valid
 *   records after the damage mean acknowledged data would be dropped, so that is corruption.
 */
import { update as crcUpdate } from '../pkg/crc32c.js';
import { WalCorruptError } from './errors.js';
import { RecordType, isFrame, parseFrame, type Frame } from './record.js';

const SECTOR = 512;

/** The outcome of scanning one segment. */
export interface SegmentScan {
  /** Offset just past the last good frame: where appending resumes. */
  end: number;
  /** The running CRC after the last good record. */
  crc: number;
  /** Flat triples (type, dataStart, dataEnd) of the good records, in order. */
  records: number[];
  /** Why the tail was cut off, when the segment ended in a torn write. */
  torn?: string;
  /** Whether any byte after `end` is non-zero, so the tail must be zeroed before appending. */
  dirtyTail: boolean;
}

/** Index of the first non-zero byte of buf[from, to), or -1. */
export function firstNonZero(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && ((buf.byteOffset + i) & 3) !== 0) {
    if (buf[i] !== 0) return i;
    i++;
  }
  const words = (to - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      if (w[k] !== 0) {
        i += k * 4;
        while (buf[i] === 0) i++;
        return i;
      }
    }
    i += words * 4;
  }
  for (; i < to; i++) if (buf[i] !== 0) return i;
  return -1;
}

/** Offset just past the last non-zero byte of buf[from, to), or `from` when all are zero. */
function trailingZeroStart(buf: Uint8Array, from: number, to: number): number {
  let i = to;
  while (i > from && ((buf.byteOffset + i) & 3) !== 0) {
    if (buf[i - 1] !== 0) return i;
    i--;
  }
  const words = (i - from) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i - words * 4, words);
    for (let k = words - 1; k >= 0; k--) {
      if (w[k] !== 0) {
        i = i - words * 4 + k * 4 + 4;
        while (buf[i - 1] === 0) i--;
        return i;
      }
    }
    i -= words * 4;
  }
  for (; i > from; i--) if (buf[i - 1] !== 0) return i;
  return from;
}

/** Whether some sector-aligned chunk of buf[from, to) is entirely zero. */
function hasZeroSector(buf: Uint8Array, from: number, to: number): boolean {
  let start = from;
  while (start < to) {
    const end = Math.min(to, (Math.floor(start / SECTOR) + 1) * SECTOR);
    if (firstNonZero(buf, start, end) < 0) return true;
    start = end;
  }
  return false;
}

/** Offset of the first of two consecutive frames at or after `from` whose CRCs chain, or -1. */
export function findChainedFrames(buf: Uint8Array, from: number): number {
  for (let q = Math.ceil(from / 8) * 8; q + 16 <= buf.length; q += 8) {
    // Cheap filters first: a plausible length word and the record's type tag.
    if (buf[q + 8] !== 0x08 || buf[q + 4] !== 0 || (buf[q] === 0 && buf[q + 1] === 0 && buf[q + 2] === 0 && buf[q + 3] === 0)) continue;
    const a = parseFrame(buf, q);
    if (!isFrame(a) || a.type === RecordType.Crc || a.frameEnd + 16 > buf.length) continue;
    const b = parseFrame(buf, a.frameEnd);
    if (!isFrame(b) || b.type === RecordType.Crc) continue;
    if (crcUpdate(a.crc, buf, b.dataStart, b.dataEnd) === b.crc) return q;
  }
  return -1;
}

/**
 * Scans a segment's bytes from offset 0, starting from the running CRC `crc` (0 when this is the
 * first segment read: the crc record at its head then sets it). Throws WalCorruptError for
 * damage; returns a `torn` reason when the last segment ends in a torn write.
 */
export function scanSegment(buf: Uint8Array, file: string, crc: number, isLast: boolean): SegmentScan {
  const records: number[] = [];
  let off = 0;
  const failAt = (reason: string, extentEnd: number, looksTorn: boolean): SegmentScan => {
    if (!isLast) throw new WalCorruptError(file, off, reason);
    const shaped =
      looksTorn || trailingZeroStart(buf, off, buf.length) < extentEnd || hasZeroSector(buf, off + 8, Math.min(extentEnd, buf.length));
    if (!shaped) throw new WalCorruptError(file, off, reason);
    const valid = findChainedFrames(buf, off + 8);
    if (valid >= 0) throw new WalCorruptError(file, off, `${reason}, yet valid records follow at offset ${valid}`);
    return { end: off, crc, records, torn: reason, dirtyTail: firstNonZero(buf, off, buf.length) >= 0 };
  };
  for (;;) {
    if (off + 8 > buf.length) {
      if (firstNonZero(buf, off, buf.length) < 0) return { end: off, crc, records, dirtyTail: false };
      return failAt('truncated frame length', buf.length, true);
    }
    if (firstNonZero(buf, off, off + 8) < 0) {
      // A zero length word ends the records; anything but zeros after it was never completed.
      if (firstNonZero(buf, off + 8, buf.length) < 0) return { end: off, crc, records, dirtyTail: false };
      return failAt('zero frame length followed by non-zero bytes', off + 8, true);
    }
    const parsed = parseFrame(buf, off);
    if (!isFrame(parsed)) return failAt(parsed.reason, parsed.extentEnd, parsed.pastEnd);
    const f: Frame = parsed;
    if (f.type === RecordType.Crc) {
      // The head of a segment restates the running CRC; a fresh reader adopts it.
      if (crc !== 0 && f.crc !== crc) return failAt(`crc record ${f.crc} does not continue the running crc ${crc}`, f.recEnd, false);
      crc = f.crc;
    } else {
      const c = crcUpdate(crc, buf, f.dataStart, f.dataEnd);
      if (c !== f.crc) return failAt(`crc mismatch: record says ${f.crc}, data gives ${c}`, f.recEnd, false);
      crc = c;
    }
    records.push(f.type, f.dataStart, f.dataEnd);
    off = f.frameEnd;
  }
}
