/**
 * A hand-written protobuf codec for raftpb, byte-for-byte equal to etcd's gogoproto encoder
 * (etcd 3.4/3.5 raft.proto: proto2 with non-nullable fields).
 *
 * What gogoproto always writes, even at zero, and what it omits:
 * - scalar fields are always written (Entry type/term/index, every Message scalar, HardState,
 *   SnapshotMetadata index/term, ConfState auto_leave, ConfChange id/type/node_id,
 *   ConfChangeSingle, ConfChangeV2 transition);
 * - embedded messages are always written (SnapshotMetadata.conf_state, Snapshot.metadata, and
 *   Message.snapshot, which is therefore an empty snapshot on every non-snapshot message);
 * - bytes fields are nullable in Go and written only when set: here, only when non-empty;
 * - repeated fields are written element by element, unpacked.
 * Fields are written in field-number order except Entry (type, term, index, data), as etcd does.
 *
 * Decoding accepts fields in any order, packed repeated IDs, and skips unknown fields. It throws
 * `ProtoDecodeError` on anything malformed and never reads past the input. Decoded byte fields are
 * views into the input (no copy): the caller must not reuse the input buffer while it holds them.
 * Node IDs are `bigint` (all 64 bits); terms and indexes are `number` and must be safe integers.
 */
import { EtcdError } from '../../pkg/errors.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from './types.js';

/** Thrown (code 'proto-decode') when bytes are not a valid encoding of the expected raftpb message. */
export class ProtoDecodeError extends EtcdError {
  constructor(message: string) {
    super('proto-decode', message);
    this.name = 'ProtoDecodeError';
  }
}

/** Thrown (code 'proto-encode') when a value cannot be encoded: a term that is not a safe integer, an ID out of range. */
export class ProtoEncodeError extends EtcdError {
  constructor(message: string) {
    super('proto-encode', message);
    this.name = 'ProtoEncodeError';
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);
const MAX_U64 = 0xffffffffffffffffn;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

// ---- sizes -------------------------------------------------------------------------------------

/** Bytes in the varint encoding of a non-negative safe integer; throws on anything else. */
export function sizeVarint(v: number): number {
  if (v < 128 && v >= 0 && v % 1 === 0) return 1;
  if (!Number.isSafeInteger(v) || v < 0) throw new ProtoEncodeError(`raftpb: ${v} is not a non-negative safe integer`);
  if (v < 16384) return 2;
  if (v < 2097152) return 3;
  if (v < 268435456) return 4;
  if (v < 34359738368) return 5;
  if (v < 4398046511104) return 6;
  if (v < 562949953421312) return 7;
  return 8;
}

/** Bytes in the varint encoding of an unsigned 64-bit bigint; throws when out of range. */
export function sizeVarint64(v: bigint): number {
  if (v >= 0n && v <= MAX_SAFE_BIG) return sizeVarint(Number(v));
  if (v < 0n || v > MAX_U64) throw new ProtoEncodeError(`raftpb: ${v} is not an unsigned 64-bit integer`);
  if (v < 0x100000000000000n) return 8;
  if (v < 0x8000000000000000n) return 9;
  return 10;
}

/** Bytes of a length-delimited field body of `len` bytes, tag included (one-byte tags only). */
function sizeDelimited(len: number): number {
  return 1 + sizeVarint(len) + len;
}

// ---- writing -----------------------------------------------------------------------------------

/** Writes `v` (a non-negative safe integer, already validated by sizing) at `pos`; returns the next position. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7fffffff) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes an unsigned 64-bit bigint as a varint at `pos`; returns the next position. */
export function writeVarint64(buf: Uint8Array, pos: number, v: bigint): number {
  if (v <= MAX_SAFE_BIG) return writeVarint(buf, pos, Number(v));
  let lo = Number(v & 0xffffffffn);
  let hi = Number(v >> 32n);
  while (hi !== 0) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

function writeBytesField(buf: Uint8Array, pos: number, tag: number, b: Uint8Array): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

// ---- reading -----------------------------------------------------------------------------------

/** A bounded cursor over protobuf bytes; every read checks the bound and throws ProtoDecodeError. */
export class ProtoReader {
  /** Next byte to read. invariant: pos <= end. */
  pos: number;
  /** One past the last readable byte. */
  end: number;
  /** Name of the message being decoded, for error texts. */
  what = '';

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** Throws a ProtoDecodeError naming the message and offset. */
  fail(why: string): never {
    throw new ProtoDecodeError(`raftpb: ${this.what}: ${why} at offset ${this.pos}`);
  }

  /** Reads a varint that must fit a safe integer (terms, indexes, lengths, enums, tags). */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) this.fail('truncated varint');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let result = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 10; i++) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail('truncated varint');
      }
      b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        if (result > Number.MAX_SAFE_INTEGER) this.fail('varint exceeds 2^53');
        return result;
      }
      mul *= 128;
    }
    this.pos = pos;
    return this.fail('varint longer than 10 bytes');
  }

  /** Reads a varint as an unsigned 64-bit bigint (node IDs). */
  varint64(): bigint {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    // Fast path: up to 7 bytes (49 bits) fits a double exactly.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail('truncated varint');
      }
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(result);
      }
      mul *= 128;
    }
    let big = BigInt(result);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail('truncated varint');
      }
      const b = buf[pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        if (big > MAX_U64) this.fail('varint exceeds 64 bits');
        return big;
      }
      shift += 7n;
    }
    this.pos = pos;
    return this.fail('varint longer than 10 bytes');
  }

  /** Reads a length prefix and returns the end of the delimited body, checked against the bound. */
  delimitedEnd(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) this.fail(`length ${len} runs past the end of the input`);
    return end;
  }

  /** Reads a length-delimited bytes field as a view into the input. */
  bytes(): Uint8Array {
    const end = this.delimitedEnd();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  /** Skips a field of the given wire type (unknown fields are tolerated, as proto2 requires). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        for (;;) {
          if (this.pos >= this.end) this.fail('truncated varint');
          if (this.buf[this.pos++]! < 0x80) return;
        }
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.delimitedEnd();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) this.fail('truncated fixed-width field');
    this.pos += n;
  }

  /** Reads a field tag and checks it; returns field number * 8 + wire type. */
  tag(): number {
    const t = this.varint();
    if (t >>> 3 === 0 || t > 0x1fffffff) this.fail(`illegal tag ${t}`);
    return t;
  }

  /** Throws unless the wire type in `tag` is `want`. */
  expect(tag: number, want: number): void {
    if ((tag & 7) !== want) this.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
  }

  /** Reads an enum value and checks it is one of `max + 1` known values. */
  enumValue(max: number, name: string): number {
    const v = this.varint();
    if (v > max) this.fail(`unknown ${name} ${v}`);
    return v;
  }

  /** Reads a repeated uint64 element, packed or not, appending to `out`. */
  repeatedId(tag: number, out: bigint[]): void {
    if ((tag & 7) === 0) {
      out.push(this.varint64());
      return;
    }
    this.expect(tag, 2);
    const end = this.delimitedEnd();
    const outer = this.end;
    this.end = end;
    while (this.pos < end) out.push(this.varint64());
    this.end = outer;
  }

  /** Runs `fn` over a nested message body, restoring the outer bound and name afterwards. */
  nested<T>(fn: (r: ProtoReader, end: number) => T): T {
    const end = this.delimitedEnd();
    const outerEnd = this.end;
    const outerWhat = this.what;
    this.end = end;
    const v = fn(this, end);
    this.end = outerEnd;
    this.what = outerWhat;
    this.pos = end;
    return v;
  }
}

// ---- Entry -------------------------------------------------------------------------------------

/** Encoded size of an Entry. Validates every field. */
export function encodedSizeEntry(e: Entry): number {
  let n = 3 + sizeVarint(e.type) + sizeVarint(e.term) + sizeVarint(e.index);
  if (e.data.length > 0) n += sizeDelimited(e.data.length);
  return n;
}

/** Writes an Entry at `pos` (room for encodedSizeEntry(e) bytes required); returns the next position. */
export function encodeEntryTo(e: Entry, buf: Uint8Array, pos: number): number {
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, e.type);
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, e.term);
  buf[pos++] = 0x18;
  pos = writeVarint(buf, pos, e.index);
  if (e.data.length > 0) pos = writeBytesField(buf, pos, 0x22, e.data);
  return pos;
}

/** Encodes an Entry. */
export function encodeEntry(e: Entry): Uint8Array {
  const buf = new Uint8Array(encodedSizeEntry(e));
  encodeEntryTo(e, buf, 0);
  return buf;
}

function readEntry(r: ProtoReader, end: number): Entry {
  r.what = 'Entry';
  let type = EntryType.EntryNormal;
  let term = 0;
  let index = 0;
  let data = EMPTY;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        type = r.enumValue(EntryType.EntryConfChangeV2, 'EntryType');
        break;
      case 0x10:
        term = r.varint();
        break;
      case 0x18:
        index = r.varint();
        break;
      case 0x22:
        data = r.bytes();
        break;
      default:
        if (tag >>> 3 <= 4) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return { term, index, type, data };
}

/** Decodes an Entry from `bytes[start, end)`. */
export function decodeEntry(bytes: Uint8Array, start = 0, end = bytes.length): Entry {
  return readEntry(new ProtoReader(bytes, start, end), end);
}

// ---- HardState ---------------------------------------------------------------------------------

/** Encoded size of a HardState. */
export function encodedSizeHardState(hs: HardState): number {
  return 3 + sizeVarint(hs.term) + sizeVarint64(hs.vote) + sizeVarint(hs.commit);
}

/** Writes a HardState at `pos`; returns the next position. */
export function encodeHardStateTo(hs: HardState, buf: Uint8Array, pos: number): number {
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, hs.term);
  buf[pos++] = 0x10;
  pos = writeVarint64(buf, pos, hs.vote);
  buf[pos++] = 0x18;
  return writeVarint(buf, pos, hs.commit);
}

/** Encodes a HardState. */
export function encodeHardState(hs: HardState): Uint8Array {
  const buf = new Uint8Array(encodedSizeHardState(hs));
  encodeHardStateTo(hs, buf, 0);
  return buf;
}

/** Decodes a HardState. */
export function decodeHardState(bytes: Uint8Array, start = 0, end = bytes.length): HardState {
  const r = new ProtoReader(bytes, start, end);
  r.what = 'HardState';
  let term = 0;
  let vote = 0n;
  let commit = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        term = r.varint();
        break;
      case 0x10:
        vote = r.varint64();
        break;
      case 0x18:
        commit = r.varint();
        break;
      default:
        if (tag >>> 3 <= 3) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return { term, vote, commit };
}

// ---- ConfState ---------------------------------------------------------------------------------

function sizeIds(ids: readonly bigint[]): number {
  let n = ids.length;
  for (let i = 0; i < ids.length; i++) n += sizeVarint64(ids[i]!);
  return n;
}

function writeIds(buf: Uint8Array, pos: number, tag: number, ids: readonly bigint[]): number {
  for (let i = 0; i < ids.length; i++) {
    buf[pos++] = tag;
    pos = writeVarint64(buf, pos, ids[i]!);
  }
  return pos;
}

/** Encoded size of a ConfState. */
export function encodedSizeConfState(cs: ConfState): number {
  return sizeIds(cs.voters) + sizeIds(cs.learners) + sizeIds(cs.votersOutgoing) + sizeIds(cs.learnersNext) + 2;
}

/** Writes a ConfState at `pos`; returns the next position. */
export function encodeConfStateTo(cs: ConfState, buf: Uint8Array, pos: number): number {
  pos = writeIds(buf, pos, 0x08, cs.voters);
  pos = writeIds(buf, pos, 0x10, cs.learners);
  pos = writeIds(buf, pos, 0x18, cs.votersOutgoing);
  pos = writeIds(buf, pos, 0x20, cs.learnersNext);
  buf[pos++] = 0x28;
  buf[pos++] = cs.autoLeave ? 1 : 0;
  return pos;
}

/** Encodes a ConfState. */
export function encodeConfState(cs: ConfState): Uint8Array {
  const buf = new Uint8Array(encodedSizeConfState(cs));
  encodeConfStateTo(cs, buf, 0);
  return buf;
}

function readConfState(r: ProtoReader, end: number): ConfState {
  r.what = 'ConfState';
  const cs: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        r.repeatedId(tag, cs.voters);
        break;
      case 2:
        r.repeatedId(tag, cs.learners);
        break;
      case 3:
        r.repeatedId(tag, cs.votersOutgoing);
        break;
      case 4:
        r.repeatedId(tag, cs.learnersNext);
        break;
      case 5:
        r.expect(tag, 0);
        cs.autoLeave = r.varint() !== 0;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return cs;
}

/** Decodes a ConfState. */
export function decodeConfState(bytes: Uint8Array, start = 0, end = bytes.length): ConfState {
  return readConfState(new ProtoReader(bytes, start, end), end);
}

// ---- SnapshotMetadata and Snapshot -------------------------------------------------------------

/** Encoded size of a SnapshotMetadata. */
export function encodedSizeSnapshotMetadata(m: SnapshotMetadata): number {
  return sizeDelimited(encodedSizeConfState(m.confState)) + 2 + sizeVarint(m.index) + sizeVarint(m.term);
}

function encodeSnapshotMetadataTo(m: SnapshotMetadata, buf: Uint8Array, pos: number): number {
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, encodedSizeConfState(m.confState));
  pos = encodeConfStateTo(m.confState, buf, pos);
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, m.index);
  buf[pos++] = 0x18;
  return writeVarint(buf, pos, m.term);
}

/** Encodes a SnapshotMetadata. */
export function encodeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  const buf = new Uint8Array(encodedSizeSnapshotMetadata(m));
  encodeSnapshotMetadataTo(m, buf, 0);
  return buf;
}

function readSnapshotMetadata(r: ProtoReader, end: number): SnapshotMetadata {
  r.what = 'SnapshotMetadata';
  let confState: ConfState | undefined;
  let index = 0;
  let term = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        confState = r.nested(readConfState);
        break;
      case 0x10:
        index = r.varint();
        break;
      case 0x18:
        term = r.varint();
        break;
      default:
        if (tag >>> 3 <= 3) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return {
    confState: confState ?? { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    index,
    term,
  };
}

/** Decodes a SnapshotMetadata. */
export function decodeSnapshotMetadata(bytes: Uint8Array, start = 0, end = bytes.length): SnapshotMetadata {
  return readSnapshotMetadata(new ProtoReader(bytes, start, end), end);
}

/** Encoded size of a Snapshot. */
export function encodedSizeSnapshot(s: Snapshot): number {
  let n = sizeDelimited(encodedSizeSnapshotMetadata(s.metadata));
  if (s.data.length > 0) n += sizeDelimited(s.data.length);
  return n;
}

/** Writes a Snapshot at `pos`; returns the next position. */
export function encodeSnapshotTo(s: Snapshot, buf: Uint8Array, pos: number): number {
  if (s.data.length > 0) pos = writeBytesField(buf, pos, 0x0a, s.data);
  buf[pos++] = 0x12;
  pos = writeVarint(buf, pos, encodedSizeSnapshotMetadata(s.metadata));
  return encodeSnapshotMetadataTo(s.metadata, buf, pos);
}

/** Encodes a Snapshot. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const buf = new Uint8Array(encodedSizeSnapshot(s));
  encodeSnapshotTo(s, buf, 0);
  return buf;
}

function readSnapshot(r: ProtoReader, end: number): Snapshot {
  r.what = 'Snapshot';
  let data = EMPTY;
  let metadata: SnapshotMetadata | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        data = r.bytes();
        break;
      case 0x12:
        metadata = r.nested(readSnapshotMetadata);
        break;
      default:
        if (tag >>> 3 <= 2) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return {
    data,
    metadata: metadata ?? {
      confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      index: 0,
      term: 0,
    },
  };
}

/** Decodes a Snapshot. */
export function decodeSnapshot(bytes: Uint8Array, start = 0, end = bytes.length): Snapshot {
  return readSnapshot(new ProtoReader(bytes, start, end), end);
}

// ---- Message -----------------------------------------------------------------------------------

/** What etcd writes for Message.snapshot when there is none: metadata with an empty ConfState. */
const EMPTY_SNAPSHOT_BYTES = Uint8Array.of(0x12, 0x08, 0x0a, 0x02, 0x28, 0x00, 0x10, 0x00, 0x18, 0x00);

/** Per-entry sizes of the message being encoded, computed once for sizing and reused for writing. */
let entrySizes = new Int32Array(256);

function sizeMessageAndRecordEntries(m: Message): number {
  const ents = m.entries;
  if (ents.length > entrySizes.length) entrySizes = new Int32Array(Math.max(ents.length, entrySizes.length * 2));
  let n =
    7 +
    sizeVarint(m.type) +
    sizeVarint64(m.to) +
    sizeVarint64(m.from) +
    sizeVarint(m.term) +
    sizeVarint(m.logTerm) +
    sizeVarint(m.index) +
    sizeVarint(m.commit) +
    2 +
    1 +
    sizeVarint(m.rejectHint);
  for (let i = 0; i < ents.length; i++) {
    const s = encodedSizeEntry(ents[i]!);
    entrySizes[i] = s;
    n += sizeDelimited(s);
  }
  n += m.snapshot === undefined ? EMPTY_SNAPSHOT_BYTES.length + 2 : sizeDelimited(encodedSizeSnapshot(m.snapshot));
  if (m.context.length > 0) n += sizeDelimited(m.context.length);
  return n;
}

/** Encoded size of a Message. */
export function encodedSizeMessage(m: Message): number {
  return sizeMessageAndRecordEntries(m);
}

function writeMessage(m: Message, buf: Uint8Array, pos: number): number {
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, m.type);
  buf[pos++] = 0x10;
  pos = writeVarint64(buf, pos, m.to);
  buf[pos++] = 0x18;
  pos = writeVarint64(buf, pos, m.from);
  buf[pos++] = 0x20;
  pos = writeVarint(buf, pos, m.term);
  buf[pos++] = 0x28;
  pos = writeVarint(buf, pos, m.logTerm);
  buf[pos++] = 0x30;
  pos = writeVarint(buf, pos, m.index);
  const ents = m.entries;
  for (let i = 0; i < ents.length; i++) {
    buf[pos++] = 0x3a;
    pos = writeVarint(buf, pos, entrySizes[i]!);
    pos = encodeEntryTo(ents[i]!, buf, pos);
  }
  buf[pos++] = 0x40;
  pos = writeVarint(buf, pos, m.commit);
  buf[pos++] = 0x4a;
  if (m.snapshot === undefined) {
    buf[pos++] = EMPTY_SNAPSHOT_BYTES.length;
    buf.set(EMPTY_SNAPSHOT_BYTES, pos);
    pos += EMPTY_SNAPSHOT_BYTES.length;
  } else {
    pos = writeVarint(buf, pos, encodedSizeSnapshot(m.snapshot));
    pos = encodeSnapshotTo(m.snapshot, buf, pos);
  }
  buf[pos++] = 0x50;
  buf[pos++] = m.reject ? 1 : 0;
  buf[pos++] = 0x58;
  pos = writeVarint(buf, pos, m.rejectHint);
  if (m.context.length > 0) pos = writeBytesField(buf, pos, 0x62, m.context);
  return pos;
}

/**
 * Writes a Message at `pos` into `buf`, which must have room for encodedSizeMessage(m) bytes
 * (call it right before: it also caches the entry sizes this write reuses). Returns the next position.
 */
export function encodeMessageTo(m: Message, buf: Uint8Array, pos: number): number {
  return writeMessage(m, buf, pos);
}

/** Encodes a Message. */
export function encodeMessage(m: Message): Uint8Array {
  const buf = new Uint8Array(sizeMessageAndRecordEntries(m));
  writeMessage(m, buf, 0);
  return buf;
}

/**
 * Decodes a Message. `snapshot` is set when the message is a MsgSnap or carries a non-empty
 * snapshot; the empty snapshot etcd writes on every other message is dropped.
 */
export function decodeMessage(bytes: Uint8Array, start = 0, end = bytes.length): Message {
  const r = new ProtoReader(bytes, start, end);
  r.what = 'Message';
  let type = MessageType.MsgHup;
  let to = 0n;
  let from = 0n;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: Snapshot | undefined;
  let reject = false;
  let rejectHint = 0;
  let context = EMPTY;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        type = r.enumValue(MessageType.MsgPreVoteResp, 'MessageType');
        break;
      case 0x10:
        to = r.varint64();
        break;
      case 0x18:
        from = r.varint64();
        break;
      case 0x20:
        term = r.varint();
        break;
      case 0x28:
        logTerm = r.varint();
        break;
      case 0x30:
        index = r.varint();
        break;
      case 0x3a: {
        // Inlined r.nested(readEntry): the hot loop of every MsgApp.
        const entryEnd = r.delimitedEnd();
        r.end = entryEnd;
        entries.push(readEntry(r, entryEnd));
        r.end = end;
        r.what = 'Message';
        break;
      }
      case 0x40:
        commit = r.varint();
        break;
      case 0x4a:
        snapshot = r.nested(readSnapshot);
        break;
      case 0x50:
        reject = r.varint() !== 0;
        break;
      case 0x58:
        rejectHint = r.varint();
        break;
      case 0x62:
        context = r.bytes();
        break;
      default:
        if (tag >>> 3 <= 12) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  const m: Message = { type, to, from, term, logTerm, index, entries, commit, reject, rejectHint, context };
  if (snapshot !== undefined && (type === MessageType.MsgSnap || snapshot.metadata.index !== 0 || snapshot.data.length > 0)) {
    m.snapshot = snapshot;
  }
  return m;
}

// ---- ConfChange, ConfChangeSingle, ConfChangeV2 ------------------------------------------------

/** Encoded size of a ConfChange. */
export function encodedSizeConfChange(cc: ConfChange): number {
  let n = 3 + sizeVarint64(cc.id) + sizeVarint(cc.type) + sizeVarint64(cc.nodeId);
  if (cc.context.length > 0) n += sizeDelimited(cc.context.length);
  return n;
}

/** Encodes a ConfChange. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const buf = new Uint8Array(encodedSizeConfChange(cc));
  let pos = 0;
  buf[pos++] = 0x08;
  pos = writeVarint64(buf, pos, cc.id);
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, cc.type);
  buf[pos++] = 0x18;
  pos = writeVarint64(buf, pos, cc.nodeId);
  if (cc.context.length > 0) writeBytesField(buf, pos, 0x22, cc.context);
  return buf;
}

/** Decodes a ConfChange. */
export function decodeConfChange(bytes: Uint8Array, start = 0, end = bytes.length): ConfChange {
  const r = new ProtoReader(bytes, start, end);
  r.what = 'ConfChange';
  let id = 0n;
  let type = ConfChangeType.ConfChangeAddNode;
  let nodeId = 0n;
  let context = EMPTY;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        id = r.varint64();
        break;
      case 0x10:
        type = r.enumValue(ConfChangeType.ConfChangeAddLearnerNode, 'ConfChangeType');
        break;
      case 0x18:
        nodeId = r.varint64();
        break;
      case 0x22:
        context = r.bytes();
        break;
      default:
        if (tag >>> 3 <= 4) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return { id, type, nodeId, context };
}

/** Encoded size of a ConfChangeSingle. */
export function encodedSizeConfChangeSingle(c: ConfChangeSingle): number {
  return 2 + sizeVarint(c.type) + sizeVarint64(c.nodeId);
}

function encodeConfChangeSingleTo(c: ConfChangeSingle, buf: Uint8Array, pos: number): number {
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, c.type);
  buf[pos++] = 0x10;
  return writeVarint64(buf, pos, c.nodeId);
}

/** Encodes a ConfChangeSingle. */
export function encodeConfChangeSingle(c: ConfChangeSingle): Uint8Array {
  const buf = new Uint8Array(encodedSizeConfChangeSingle(c));
  encodeConfChangeSingleTo(c, buf, 0);
  return buf;
}

function readConfChangeSingle(r: ProtoReader, end: number): ConfChangeSingle {
  r.what = 'ConfChangeSingle';
  let type = ConfChangeType.ConfChangeAddNode;
  let nodeId = 0n;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        type = r.enumValue(ConfChangeType.ConfChangeAddLearnerNode, 'ConfChangeType');
        break;
      case 0x10:
        nodeId = r.varint64();
        break;
      default:
        if (tag >>> 3 <= 2) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return { type, nodeId };
}

/** Decodes a ConfChangeSingle. */
export function decodeConfChangeSingle(bytes: Uint8Array, start = 0, end = bytes.length): ConfChangeSingle {
  return readConfChangeSingle(new ProtoReader(bytes, start, end), end);
}

/** Encoded size of a ConfChangeV2. */
export function encodedSizeConfChangeV2(cc: ConfChangeV2): number {
  let n = 1 + sizeVarint(cc.transition);
  for (const c of cc.changes) n += sizeDelimited(encodedSizeConfChangeSingle(c));
  if (cc.context.length > 0) n += sizeDelimited(cc.context.length);
  return n;
}

/** Encodes a ConfChangeV2. */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const buf = new Uint8Array(encodedSizeConfChangeV2(cc));
  let pos = 0;
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, cc.transition);
  for (const c of cc.changes) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, encodedSizeConfChangeSingle(c));
    pos = encodeConfChangeSingleTo(c, buf, pos);
  }
  if (cc.context.length > 0) writeBytesField(buf, pos, 0x1a, cc.context);
  return buf;
}

/** Decodes a ConfChangeV2. */
export function decodeConfChangeV2(bytes: Uint8Array, start = 0, end = bytes.length): ConfChangeV2 {
  const r = new ProtoReader(bytes, start, end);
  r.what = 'ConfChangeV2';
  let transition = ConfChangeTransition.ConfChangeTransitionAuto;
  const changes: ConfChangeSingle[] = [];
  let context = EMPTY;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        transition = r.enumValue(ConfChangeTransition.ConfChangeTransitionJointExplicit, 'ConfChangeTransition');
        break;
      case 0x12:
        changes.push(r.nested(readConfChangeSingle));
        break;
      case 0x1a:
        context = r.bytes();
        break;
      default:
        if (tag >>> 3 <= 3) r.fail(`wrong wire type ${tag & 7} for field ${tag >>> 3}`);
        r.skip(tag & 7);
    }
  }
  return { transition, changes, context };
}
