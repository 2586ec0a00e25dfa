import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FirstRequestScanner } from './first-request-probe.js';
import { CLIENT_PREFACE, frame } from '../../pkg/h2/frames.js';
import { PLAIN_AUTHORITY, URL_AUTHORITY, hex } from './test-frames.js';

const clientSettings = frame(0x4, 0, 0, hex('000300000064'));
const ack = frame(0x4, 0x1, 0, Buffer.alloc(0));
const windowUpdate = frame(0x8, 0, 0, hex('00010000'));
const data = frame(0x0, 0x1, 1, hex('0000000002abcd'));

function scan(input: Buffer, chunkSize: number): FirstRequestScanner {
  const s = new FirstRequestScanner(input.subarray(0, Math.max(24, Math.min(chunkSize, input.length))));
  for (let i = Math.max(24, chunkSize); i < input.length; i += chunkSize) s.write(input.subarray(i, i + chunkSize));
  return s;
}

test('the first SETTINGS ACK is removed, every other byte is held in order, however the input is chunked', () => {
  const block = frame(0x1, 0x4, 1, Buffer.concat([hex('8386'), PLAIN_AUTHORITY]));
  const input = Buffer.concat([CLIENT_PREFACE, clientSettings, windowUpdate, ack, block, data, ack]);
  for (const size of [1, 5, 9, 24, 40, input.length]) {
    const s = scan(input, size);
    assert.equal(s.ackSeen, true, `chunks of ${size}`);
    assert.equal(s.needsRepair(), false);
    assert.deepEqual(s.takeHeld(), Buffer.concat([CLIENT_PREFACE, clientSettings, windowUpdate, block, data, ack]), `chunks of ${size}`);
  }
});

test('a URL authority in the first block, split over CONTINUATION and padded, needs the rewriter', () => {
  const padded = Buffer.concat([Buffer.from([2]), hex('8386'), URL_AUTHORITY.subarray(0, 6), Buffer.alloc(2)]);
  const input = Buffer.concat([CLIENT_PREFACE, clientSettings, frame(0x1, 0x8, 3, padded), frame(0x9, 0x4, 3, URL_AUTHORITY.subarray(6))]);
  const s = scan(input, 7);
  assert.equal(s.ackSeen, false);
  assert.equal(s.needsRepair(), true);
});

test('until the first header block is complete there is no verdict, and partial frames are held', () => {
  const block = frame(0x1, 0x4, 1, Buffer.concat([hex('8386'), PLAIN_AUTHORITY]));
  const input = Buffer.concat([CLIENT_PREFACE, clientSettings, ack, block]);
  const s = scan(input.subarray(0, input.length - 3), 10);
  assert.equal(s.needsRepair(), undefined);
  assert.equal(s.heldBytes, input.length - 3 - ack.length);
  s.write(input.subarray(input.length - 3));
  assert.equal(s.needsRepair(), false);
  assert.deepEqual(s.takeHeld(), Buffer.concat([CLIENT_PREFACE, clientSettings, block]));
  assert.equal(s.heldBytes, 0);
});
