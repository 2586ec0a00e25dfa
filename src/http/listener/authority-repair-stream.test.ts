import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestHeaderRewriter } from './authority-repair-stream.js';
import { CLIENT_PREFACE, frame } from '../../pkg/h2/frames.js';
import { PLAIN_AUTHORITY, URL_AUTHORITY, hex } from './test-frames.js';

function rewrite(input: Buffer, chunkSize: number): Buffer {
  const out: Buffer[] = [];
  const r = new RequestHeaderRewriter((b) => out.push(Buffer.from(b)));
  for (let i = 0; i < input.length; i += chunkSize) r.write(input.subarray(i, i + chunkSize));
  return Buffer.concat(out);
}

const settings = frame(0x4, 0, 0, hex('000300000064'));
const data = frame(0x0, 0x1, 1, Buffer.from('0000000002abcd', 'hex'));

test('repairs a header block and passes every other byte through, however the input is chunked', () => {
  const input = Buffer.concat([CLIENT_PREFACE, settings, frame(0x1, 0x4, 1, Buffer.concat([hex('8386'), URL_AUTHORITY])), data]);
  const expected = Buffer.concat([CLIENT_PREFACE, settings, frame(0x1, 0x4, 1, Buffer.concat([hex('8386'), PLAIN_AUTHORITY])), data]);
  for (const size of [1, 2, 7, 9, 10, 64, input.length]) assert.deepEqual(rewrite(input, size), expected, `chunks of ${size}`);
});

test('a block split over CONTINUATION frames, padded and with priority, becomes one HEADERS frame', () => {
  const padded = Buffer.concat([Buffer.from([3]), hex('8000000310'), hex('8386'), URL_AUTHORITY.subarray(0, 5), Buffer.alloc(3)]);
  const input = Buffer.concat([
    CLIENT_PREFACE,
    frame(0x1, 0x8 | 0x20 | 0x1, 3, padded),
    frame(0x9, 0, 3, URL_AUTHORITY.subarray(5, 10)),
    frame(0x9, 0x4, 3, URL_AUTHORITY.subarray(10)),
  ]);
  const expected = Buffer.concat([CLIENT_PREFACE, frame(0x1, 0x20 | 0x1 | 0x4, 3, Buffer.concat([hex('8000000310'), hex('8386'), PLAIN_AUTHORITY]))]);
  for (const size of [1, 5, input.length]) assert.deepEqual(rewrite(input, size), expected, `chunks of ${size}`);
});

test('blocks that need no repair are forwarded byte for byte', () => {
  const input = Buffer.concat([
    CLIENT_PREFACE,
    frame(0x1, 0x0, 1, Buffer.concat([hex('8386'), PLAIN_AUTHORITY.subarray(0, 4)])),
    frame(0x9, 0x4, 1, PLAIN_AUTHORITY.subarray(4)),
    data,
  ]);
  assert.deepEqual(rewrite(input, 3), input);
});

test('frames passed through unchanged leave as one view of the chunk that brought them', () => {
  const input = Buffer.concat([CLIENT_PREFACE, settings, data, frame(0x8, 0, 0, hex('00010000')), data]);
  const out: Buffer[] = [];
  new RequestHeaderRewriter((b) => out.push(b)).write(input);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], input);
});
