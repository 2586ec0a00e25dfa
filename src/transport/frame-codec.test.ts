import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage } from '../api/raftpb/codec.js';
import { MessageType, newMessage, type Message } from '../api/raftpb/types.js';
import { FrameDecoder } from './frame-decoder.js';
import { FrameEncoder } from './frame-encoder.js';
import { MessageQueue, estimateMessageSize } from './message-queue.js';
import { msgApp } from './test-kit.js';

function queueOf(msgs: Message[]): MessageQueue {
  const q = new MessageQueue(1024, 1 << 30);
  for (const m of msgs) assert.ok(q.push(m, estimateMessageSize(m)));
  return q;
}

function decodeAll(chunks: Buffer[], max = 1 << 20): { msgs: Message[]; keepalives: number; error: string | undefined } {
  const d = new FrameDecoder(max);
  const msgs: Message[] = [];
  let keepalives = 0;
  let error: string | undefined;
  for (const c of chunks) {
    error ??= d.push(c, (buf, start, end) => {
      if (start === end) keepalives++;
      else msgs.push(decodeMessage(buf, start, end));
    });
  }
  return { msgs, keepalives, error };
}

test('a batch of queued messages encodes into one buffer that decodes back to the same messages', () => {
  const msgs = [msgApp(1n, 2n, 1, 16, 100), newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 5, commit: 9 }), msgApp(1n, 2n, 2, 0)];
  const enc = new FrameEncoder(1 << 20, () => assert.fail('no encode error expected'));
  const q = queueOf(msgs);
  const batch = enc.encode(q)!;
  assert.equal(batch.messages, 3);
  assert.equal(q.length, 0);
  const { msgs: got } = decodeAll([batch.buf.subarray(0, batch.length)]);
  assert.deepEqual(got.map((m) => [m.type, m.index, m.term, m.entries.length]), msgs.map((m) => [m.type, m.index, m.term, m.entries.length]));
});

test('the estimate bounds the encoded size, so a turn’s messages fit one buffer', () => {
  const msgs = Array.from({ length: 300 }, (_, i) => msgApp(0xffffffffffffffffn, 0x8000000000000000n, 2 ** 48 + i, i % 20, i * 7));
  const enc = new FrameEncoder(64 << 20, () => {});
  const q = queueOf(msgs);
  const estimated = q.bytes;
  const batch = enc.encode(q)!;
  assert.equal(batch.messages, 300);
  assert.ok(batch.length <= estimated + 4 * 300, `${batch.length} > ${estimated}`);
});

test('a batch stops at the buffer size and the rest stays queued in order', () => {
  const enc = new FrameEncoder(64 * 1024, () => {});
  const q = queueOf(Array.from({ length: 200 }, (_, i) => msgApp(1n, 2n, i, 4, 200)));
  const seen: number[] = [];
  let batches = 0;
  for (let b = enc.encode(q); b !== undefined; b = enc.encode(q)) {
    batches++;
    seen.push(...decodeAll([b.buf.subarray(0, b.length)]).msgs.map((m) => m.index));
    enc.release(b.buf);
  }
  assert.ok(batches > 1);
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
});

test('an unencodable message is dropped and reported, the others go out', () => {
  const errors: unknown[] = [];
  const enc = new FrameEncoder(1 << 20, (e) => errors.push(e));
  const q = queueOf([msgApp(1n, 2n, 1), newMessage({ type: MessageType.MsgApp, to: 2n, term: -1 }), msgApp(1n, 2n, 3)]);
  const b = enc.encode(q)!;
  assert.equal(errors.length, 1);
  assert.deepEqual(decodeAll([b.buf.subarray(0, b.length)]).msgs.map((m) => m.index), [1, 3]);
});

test('frames split at every byte boundary decode the same, keepalives included', () => {
  const enc = new FrameEncoder(1 << 20, () => {});
  const b = enc.encode(queueOf([msgApp(1n, 2n, 1, 3, 50), msgApp(1n, 2n, 2, 1, 5)]))!;
  const stream = Buffer.concat([Buffer.alloc(4), b.buf.subarray(0, b.length), Buffer.alloc(4)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    for (const step of [1, 3, 7]) {
      const chunks: Buffer[] = [stream.subarray(0, cut)];
      for (let p = cut; p < stream.length; p += step) chunks.push(stream.subarray(p, Math.min(stream.length, p + step)));
      const r = decodeAll(chunks);
      assert.equal(r.error, undefined);
      assert.equal(r.keepalives, 2);
      assert.deepEqual(r.msgs.map((m) => [m.index, m.entries.length]), [[1, 3], [2, 1]]);
    }
  }
});

test('a length prefix over the limit is an error, even when split', () => {
  const r = decodeAll([Buffer.from([0, 0]), Buffer.from([1, 1, 9])], 256);
  assert.match(r.error!, /frame of 257 bytes exceeds the limit of 256/);
});
