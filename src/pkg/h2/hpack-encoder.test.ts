import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { HpackDecoder } from './hpack-decoder.js';
import { STATIC_TABLE } from './hpack-static-table.js';

function hex(fields: readonly (readonly [string, string])[]): string {
  return encodeHeaderBlock(fields).toString('hex');
}

test('a field whose exact pair is in the static table is one indexed octet', () => {
  assert.equal(hex([[':status', '200']]), '88');
  assert.equal(hex([[':method', 'GET']]), '82');
  assert.equal(hex([['accept-encoding', 'gzip, deflate']]), '90');
  // RFC 7541 C.2.4.
  assert.equal(hex([[':method', 'GET'], [':status', '500']]), '828e');
});

test('a field with a static name is a literal without indexing using the first name index', () => {
  // RFC 7541 C.2.2: ':path /sample/path' → name index 4.
  assert.equal(hex([[':path', '/sample/path']]), '040c2f73616d706c652f70617468');
  // ':status' first appears at index 8.
  assert.equal(hex([[':status', '418']]), '0803343138');
  // content-type is index 31: prefix 15 full, then 16.
  assert.equal(hex([['content-type', 'application/grpc']]), '0f1010' + Buffer.from('application/grpc').toString('hex'));
});

test('an empty value of a name-only static entry is still a literal', () => {
  // accept (19): 0x0f then 4, empty value.
  assert.equal(hex([['accept', '']]), '0f0400');
});

test('a field with an unknown name is a literal without indexing with a literal name', () => {
  assert.equal(hex([['grpc-status', '0']]), '000b' + Buffer.from('grpc-status').toString('hex') + '0130');
});

test('lengths from 127 up take continuation octets', () => {
  const value = 'x'.repeat(200);
  const block = encodeHeaderBlock([['x-long', value]]);
  // 200 = 127 + 73.
  assert.equal(block.subarray(0, 10).toString('hex'), '0006' + Buffer.from('x-long').toString('hex') + '7f49');
  assert.equal(block.length, 2 + 6 + 2 + 200);
  assert.equal(block.subarray(10).toString('latin1'), value);
});

test('latin1 octets above 0x7f survive the round trip', () => {
  const fields: [string, string][] = [['x-bin', '\u00e9\u00ff\u0000\u0080'], ['x-long-bin', '\u00fe'.repeat(64)]];
  const out: string[] = [];
  assert.equal(new HpackDecoder().decode(encodeHeaderBlock(fields), out), undefined);
  assert.deepEqual(out, fields.flat());
});

test('every static table entry round-trips and leaves the peer table untouched', () => {
  const fields = STATIC_TABLE.map(([name, value]) => [name, value] as const);
  const decoder = new HpackDecoder();
  const out: string[] = [];
  assert.equal(decoder.decode(encodeHeaderBlock(fields), out), undefined);
  assert.deepEqual(out, fields.flat());
  assert.equal(decoder.dynamicTableSize, 0);
});

test('an empty header list encodes to an empty block', () => {
  assert.equal(encodeHeaderBlock([]).length, 0);
});

test('many fields in one call outgrow the reused plan without mixing fields up', () => {
  const fields = Array.from({ length: 300 }, (_, i) => [i % 2 === 0 ? ':status' : `x-${i}`, i % 3 === 0 ? '200' : `${i}`] as const);
  const out: string[] = [];
  assert.equal(new HpackDecoder().decode(encodeHeaderBlock(fields), out), undefined);
  assert.deepEqual(out, fields.flat());
});
