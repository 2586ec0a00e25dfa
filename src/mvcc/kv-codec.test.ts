import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeKeyValue, encodeKeyValue } from './kv-codec.js';
import type { KeyValue } from './key-value.js';

const root = protobuf.parse(`
syntax = "proto3";
package mvccpb;
message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}`).root;
const KeyValueType = root.lookupType('mvccpb.KeyValue');

const enc = new TextEncoder();

const samples: KeyValue[] = [
  { key: enc.encode('foo'), createRevision: 2, modRevision: 9, version: 3, value: enc.encode('bar'), lease: 0n },
  { key: enc.encode('k'), createRevision: 2 ** 40 + 3, modRevision: 2 ** 52, version: 300, value: new Uint8Array(200).fill(9), lease: 0x694d77aa9f1a2b3cn },
  { key: enc.encode('tomb'), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n },
  { key: enc.encode('neg'), createRevision: 1, modRevision: 1, version: 1, value: enc.encode('v'), lease: -5n },
];

test('encoded KeyValue bytes are what protobuf writes for mvccpb.KeyValue', () => {
  for (const kv of samples) {
    // proto3 as Go writes it: zero fields are left out, so only set the others.
    const fields: Record<string, unknown> = {};
    if (kv.key.length > 0) fields['key'] = kv.key;
    if (kv.createRevision !== 0) fields['createRevision'] = kv.createRevision;
    if (kv.modRevision !== 0) fields['modRevision'] = kv.modRevision;
    if (kv.version !== 0) fields['version'] = kv.version;
    if (kv.value.length > 0) fields['value'] = kv.value;
    if (kv.lease !== 0n) fields['lease'] = kv.lease.toString();
    const expected = KeyValueType.encode(KeyValueType.fromObject(fields)).finish();
    assert.deepEqual(encodeKeyValue(kv), new Uint8Array(expected));
  }
});

test('decodeKeyValue round-trips and owns copies of key and value', () => {
  for (const kv of samples) {
    const bytes = encodeKeyValue(kv);
    const back = decodeKeyValue(bytes);
    assert.deepEqual(back, { ...kv, key: new Uint8Array(kv.key), value: new Uint8Array(kv.value) });
    bytes.fill(0);
    assert.deepEqual(back.key, new Uint8Array(kv.key), 'key survives the source buffer being reused');
  }
  assert.equal(decodeKeyValue(encodeKeyValue(samples[0]!), true).value.length, 0);
});

test('decodeKeyValue skips unknown fields and rejects truncated records', () => {
  const withUnknown = KeyValueType.encode(KeyValueType.fromObject({ key: enc.encode('x'), version: 2 })).finish();
  const extra = new Uint8Array([...withUnknown, 0xf8, 0x01, 0x05, 0x82, 0x01, 0x02, 0x61, 0x62]);
  const kv = decodeKeyValue(extra);
  assert.equal(new TextDecoder().decode(kv.key), 'x');
  assert.equal(kv.version, 2);
  assert.throws(() => decodeKeyValue(new Uint8Array([0x0a, 0x05, 0x61])), /corrupt/);
});
