import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protobufToText } from './protobuf-text.js';

test('protobufToText prints nested messages, strings and named varints', () => {
  // PutResponse{header{cluster_id: 300, revision: 5}, prev_kv{key: "foo", value: "line\n"}}
  const bytes = Uint8Array.from([
    0x0a, 0x05, 0x08, 0xac, 0x02, 0x18, 0x05, 0x12, 0x0c, 0x0a, 0x03, 0x66, 0x6f, 0x6f, 0x2a, 0x05, 0x6c, 0x69, 0x6e,
    0x65, 0x0a,
  ]);
  const text = protobufToText(bytes, (v) => (v === 300n ? '<id>' : undefined));
  assert.equal(text, '1 {\n  1: <id>\n  3: 5\n}\n2 {\n  1: "foo"\n  5: bytes:6c 69 6e 65 0a\n}\n');
});

test('protobufToText reports bytes that are not a message', () => {
  assert.equal(protobufToText(Uint8Array.from([0x0a, 0x09, 0x01])), 'not a protobuf message: 0a 09 01\n');
  assert.equal(protobufToText(new Uint8Array(0)), '');
});
