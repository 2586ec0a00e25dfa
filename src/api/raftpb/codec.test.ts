import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { seededRand, type Rand } from '../../pkg/rand.js';
import {
  ProtoDecodeError,
  ProtoEncodeError,
  decodeConfChange,
  decodeConfChangeSingle,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfChangeSingle,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  encodedSizeEntry,
  encodedSizeMessage,
} from './codec.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  emptySnapshot,
  newMessage,
  type ConfState,
  type Entry,
  type Message,
  type Snapshot,
} from './types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/ /g, ''), 'hex'));
const MAX_ID = 0xffffffffffffffffn;

function randomBytes(rand: Rand, max: number): Uint8Array {
  const b = new Uint8Array(rand.intn(max + 1));
  for (let i = 0; i < b.length; i++) b[i] = rand.intn(256);
  return b;
}

function randomId(rand: Rand): bigint {
  switch (rand.intn(4)) {
    case 0:
      return 0n;
    case 1:
      return BigInt(rand.intn(10) + 1);
    case 2:
      return MAX_ID - BigInt(rand.intn(3));
    default:
      return (BigInt(rand.intn(2 ** 30)) << 34n) | BigInt(rand.intn(2 ** 30));
  }
}

function randomNumber(rand: Rand): number {
  switch (rand.intn(3)) {
    case 0:
      return rand.intn(200);
    case 1:
      return rand.intn(2 ** 31);
    default:
      return Number.MAX_SAFE_INTEGER - rand.intn(1000);
  }
}

function randomEntry(rand: Rand): Entry {
  return { term: randomNumber(rand), index: randomNumber(rand), type: rand.intn(3) as EntryType, data: randomBytes(rand, 40) };
}

function randomConfState(rand: Rand): ConfState {
  const ids = (): bigint[] => Array.from({ length: rand.intn(4) }, () => randomId(rand));
  return { voters: ids(), learners: ids(), votersOutgoing: ids(), learnersNext: ids(), autoLeave: rand.intn(2) === 1 };
}

function randomSnapshot(rand: Rand): Snapshot {
  return {
    data: randomBytes(rand, 50),
    metadata: { confState: randomConfState(rand), index: randomNumber(rand) + 1, term: randomNumber(rand) },
  };
}

function randomMessage(rand: Rand): Message {
  const type = rand.intn(19) as MessageType;
  const m = newMessage({
    type,
    to: randomId(rand),
    from: randomId(rand),
    term: randomNumber(rand),
    logTerm: randomNumber(rand),
    index: randomNumber(rand),
    entries: Array.from({ length: rand.intn(4) }, () => randomEntry(rand)),
    commit: randomNumber(rand),
    reject: rand.intn(2) === 1,
    rejectHint: randomNumber(rand),
    context: randomBytes(rand, 10),
  });
  if (type === MessageType.MsgSnap) m.snapshot = randomSnapshot(rand);
  return m;
}

test('Entry encodes type, term and index even when zero, as gogoproto does', () => {
  const e: Entry = { term: 0, index: 0, type: EntryType.EntryNormal, data: new Uint8Array(0) };
  assert.equal(hex(encodeEntry(e)), '080010001800');
  assert.deepEqual(decodeEntry(encodeEntry(e)), e);
});

test('Entry with data and a two-byte index has the hand-computed bytes', () => {
  const e: Entry = { term: 5, index: 300, type: EntryType.EntryConfChange, data: Uint8Array.of(0xaa, 0xbb) };
  assert.equal(hex(encodeEntry(e)), '08011005' + '18ac02' + '2202aabb');
  assert.equal(encodedSizeEntry(e), 11);
  assert.deepEqual(decodeEntry(encodeEntry(e)), e);
});

test('HardState writes all three fields and carries a vote of 2^64-1 exactly', () => {
  assert.equal(hex(encodeHardState({ term: 0, vote: 0n, commit: 0 })), '080010001800');
  const hs = { term: 1, vote: MAX_ID, commit: 3 };
  assert.equal(hex(encodeHardState(hs)), '0801' + '10ffffffffffffffffff01' + '1803');
  assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
});

test('a heartbeat carries etcd’s empty snapshot and reject=false, and decodes without a snapshot', () => {
  const m = newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 3, commit: 4 });
  assert.equal(hex(encodeMessage(m)), '0808100218012003280030004004' + '4a0a' + '1208' + '0a022800' + '1000' + '1800' + '5000' + '5800');
  assert.equal(encodedSizeMessage(m), encodeMessage(m).length);
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
});

test('ConfState writes repeated IDs unpacked and always writes auto_leave', () => {
  const cs: ConfState = { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: true };
  assert.equal(hex(encodeConfState(cs)), '08010802' + '2801');
  assert.deepEqual(decodeConfState(encodeConfState(cs)), cs);
});

test('ConfState decoding accepts packed repeated IDs', () => {
  const cs = decodeConfState(bytes('0a 04 01 02 ff 01 2800'));
  assert.deepEqual(cs.voters, [1n, 2n, 255n]);
});

test('Snapshot has the hand-computed bytes: data, then metadata with conf state, index, term', () => {
  const s: Snapshot = {
    data: Uint8Array.of(1),
    metadata: { confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, index: 10, term: 2 },
  };
  assert.equal(hex(encodeSnapshot(s)), '0a0101' + '120a' + '0a0408012800' + '100a' + '1802');
  assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
  assert.deepEqual(decodeSnapshotMetadata(encodeSnapshotMetadata(s.metadata)), s.metadata);
});

test('ConfChange, ConfChangeSingle and ConfChangeV2 have the hand-computed bytes', () => {
  const cc = { id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: 1n, context: new Uint8Array(0) };
  assert.equal(hex(encodeConfChange(cc)), '080010001801');
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const single = { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n };
  assert.equal(hex(encodeConfChangeSingle(single)), '08031004');
  assert.deepEqual(decodeConfChangeSingle(encodeConfChangeSingle(single)), single);
  const v2 = { transition: ConfChangeTransition.ConfChangeTransitionJointImplicit, changes: [single], context: Uint8Array.of(0x78) };
  assert.equal(hex(encodeConfChangeV2(v2)), '0801' + '120408031004' + '1a0178');
  assert.deepEqual(decodeConfChangeV2(encodeConfChangeV2(v2)), v2);
});

test('node IDs of 2^64-1 round-trip exactly through Message, ConfChange and ConfState', () => {
  const m = newMessage({ type: MessageType.MsgApp, to: MAX_ID, from: MAX_ID - 1n, term: 1 });
  const back = decodeMessage(encodeMessage(m));
  assert.equal(back.to, MAX_ID);
  assert.equal(back.from, MAX_ID - 1n);
  const cc = { id: MAX_ID, type: ConfChangeType.ConfChangeRemoveNode, nodeId: MAX_ID, context: new Uint8Array(0) };
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const cs: ConfState = { voters: [MAX_ID, 2n ** 63n, 2n ** 53n + 1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  assert.deepEqual(decodeConfState(encodeConfState(cs)).voters, cs.voters);
});

test('a MsgSnap keeps its snapshot through a round trip', () => {
  const snap = emptySnapshot();
  snap.metadata.index = 7;
  snap.metadata.term = 2;
  snap.data = Uint8Array.of(9, 9);
  const m = newMessage({ type: MessageType.MsgSnap, to: 1n, from: 2n, term: 2, snapshot: snap });
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
});

test('random messages round-trip and sizes match the encoding (500 seeded cases)', () => {
  const rand = seededRand(42);
  for (let i = 0; i < 500; i++) {
    const m = randomMessage(rand);
    const enc = encodeMessage(m);
    assert.equal(encodedSizeMessage(m), enc.length);
    assert.deepEqual(decodeMessage(enc), m, `case ${i}`);
  }
});

test('protobufjs reads our bytes as the same raftpb values (independent wire check)', () => {
  const root = protobuf.parse(`
    syntax = "proto2"; package raftpb;
    message Entry { optional uint64 Term = 2; optional uint64 Index = 3; optional int32 Type = 1; optional bytes Data = 4; }
    message ConfState { repeated uint64 voters = 1; repeated uint64 learners = 2; repeated uint64 voters_outgoing = 3;
      repeated uint64 learners_next = 4; optional bool auto_leave = 5; }
    message SnapshotMetadata { optional ConfState conf_state = 1; optional uint64 index = 2; optional uint64 term = 3; }
    message Snapshot { optional bytes data = 1; optional SnapshotMetadata metadata = 2; }
    message Message { optional int32 type = 1; optional uint64 to = 2; optional uint64 from = 3; optional uint64 term = 4;
      optional uint64 logTerm = 5; optional uint64 index = 6; repeated Entry entries = 7; optional uint64 commit = 8;
      optional Snapshot snapshot = 9; optional bool reject = 10; optional uint64 rejectHint = 11; optional bytes context = 12; }
  `).root;
  const T = root.lookupType('raftpb.Message');
  const rand = seededRand(7);
  for (let i = 0; i < 100; i++) {
    const m = randomMessage(rand);
    const o = T.toObject(T.decode(encodeMessage(m)), { longs: String, bytes: Array, defaults: true }) as Record<string, unknown>;
    assert.equal(o['type'], m.type);
    assert.equal(o['to'], m.to.toString());
    assert.equal(o['from'], m.from.toString());
    assert.equal(o['term'], String(m.term));
    assert.equal(o['commit'], String(m.commit));
    assert.equal(o['reject'], m.reject);
    const ents = o['entries'] as Array<Record<string, unknown>>;
    assert.equal(ents.length, m.entries.length);
    ents.forEach((e, j) => {
      assert.equal(e['Index'], String(m.entries[j]!.index));
      assert.deepEqual(e['Data'], Array.from(m.entries[j]!.data));
    });
    const snap = o['snapshot'] as { metadata: { index: string } };
    assert.equal(snap.metadata.index, String(m.snapshot?.metadata.index ?? 0));
  }
});

test('decoding malformed bytes throws ProtoDecodeError with a clear reason', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['truncated varint', () => decodeEntry(bytes('0880')), /Entry: truncated varint/],
    ['length past end', () => decodeEntry(bytes('2205 01')), /length 5 runs past the end/],
    ['eleven-byte varint', () => decodeEntry(bytes('10 ffffffffffffffffffff01')), /longer than 10 bytes/],
    ['group wire type', () => decodeHardState(bytes('4b')), /unsupported wire type 3/],
    ['term above 2^53', () => decodeHardState(bytes('08 8080808080808010')), /exceeds 2\^53/],
    ['field 0', () => decodeMessage(bytes('00')), /illegal tag 0/],
    ['wrong wire type for a known field', () => decodeMessage(bytes('0a00')), /wrong wire type 2 for field 1/],
    ['unknown message type', () => decodeMessage(bytes('0863')), /unknown MessageType 99/],
    ['truncated nested entry', () => decodeMessage(bytes('3a05 0801')), /runs past the end/],
    ['id above 2^64', () => decodeHardState(bytes('10 ffffffffffffffffff7f')), /exceeds 64 bits/],
  ];
  for (const [name, fn, re] of cases) {
    assert.throws(fn, (err: unknown) => err instanceof ProtoDecodeError && re.test(err.message), name);
  }
});

test('unknown fields are skipped (forward compatibility)', () => {
  // Entry with unknown fields 15 (varint), 16 (fixed64), 17 (bytes), 18 (fixed32) around known ones.
  const e = decodeEntry(bytes('0801 7805 810100000000000000 00 8a0102aabb 1002 95010000803f 1803'));
  assert.deepEqual(e, { term: 2, index: 3, type: EntryType.EntryConfChange, data: new Uint8Array(0) });
});

test('random garbage never hangs and only ever throws ProtoDecodeError (2,000 seeded inputs)', () => {
  const rand = seededRand(1234);
  const decoders = [decodeEntry, decodeHardState, decodeMessage, decodeSnapshot, decodeConfState, decodeConfChange, decodeConfChangeV2];
  let threw = 0;
  for (let i = 0; i < 2000; i++) {
    const garbage = randomBytes(rand, 64);
    for (const d of decoders) {
      try {
        d(garbage);
      } catch (err) {
        assert.ok(err instanceof ProtoDecodeError, `unexpected ${String(err)}`);
        threw++;
      }
    }
  }
  assert.ok(threw > 1000, 'most garbage is rejected');
});

test('every truncation of a valid message either decodes or throws ProtoDecodeError', () => {
  const m = randomMessage(seededRand(5));
  const enc = encodeMessage(m);
  for (let cut = 0; cut < enc.length; cut++) {
    try {
      decodeMessage(enc.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof ProtoDecodeError);
    }
  }
});

test('encoding rejects terms that are not safe non-negative integers and IDs outside 64 bits', () => {
  const e = (term: number): Entry => ({ term, index: 1, type: EntryType.EntryNormal, data: new Uint8Array(0) });
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
    assert.throws(() => encodeEntry(e(bad)), ProtoEncodeError, String(bad));
  }
  assert.throws(() => encodeHardState({ term: 1, vote: 2n ** 64n, commit: 0 }), ProtoEncodeError);
  assert.throws(() => encodeHardState({ term: 1, vote: -1n, commit: 0 }), ProtoEncodeError);
});
