import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../../src/backend/backend.js';
import { seededRand } from '../../src/pkg/rand.js';
import { MemoryBackend } from './memory-backend.js';

function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '-' : Buffer.from(b).toString('hex');
}

function keyOf(n: number): Uint8Array {
  // Variable lengths and a zero byte, so byte order differs from numeric order.
  return Uint8Array.from([n % 7, (n * 13) % 256, ...(n % 3 === 0 ? [0] : [])]);
}

test('memory backend answers reads, scans and hashes as the lmdb backend over the same writes and commits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'memory-backend-'));
  const lmdb = Backend.open({ path: join(dir, 'db'), unsafeNoSync: true });
  const mem = new MemoryBackend();
  try {
    const rand = seededRand(42);
    const names = ['key', 'lease', 'meta'];
    for (let step = 0; step < 3000; step++) {
      const name = names[rand.intn(names.length)]!;
      const [lb, mb] = [lmdb.bucket(name), mem.bucket(name)];
      const key = keyOf(rand.intn(60));
      const r = rand.float();
      if (r < 0.45) {
        const value = Uint8Array.from([step & 255, step >> 8]);
        lmdb.batchTx.put(lb, key, value);
        mem.batchTx.put(mb, key, value);
      } else if (r < 0.6) {
        lmdb.batchTx.delete(lb, key);
        mem.batchTx.delete(mb, key);
      } else if (r < 0.65) {
        await Promise.all([lmdb.commit(), mem.commit()]);
      } else if (r < 0.85) {
        assert.equal(hex(mem.get(mb, key)), hex(lmdb.get(lb, key)), `get at step ${step}`);
      } else {
        const start = keyOf(rand.intn(60));
        const end = rand.intn(3) === 0 ? undefined : keyOf(rand.intn(60));
        const limit = rand.intn(4);
        const a = lmdb.range(lb, start, end, limit);
        const b = mem.range(mb, start, end, limit);
        assert.deepEqual(b.keys.map(hex), a.keys.map(hex), `range keys at step ${step}`);
        assert.deepEqual(b.values.map(hex), a.values.map(hex), `range values at step ${step}`);
      }
      if (step % 500 === 0) assert.equal(mem.hash(), lmdb.hash(), `hash at step ${step}`);
    }
    mem.setConsistentIndex(77);
    lmdb.setConsistentIndex(77);
    assert.equal(mem.consistentIndex(), lmdb.consistentIndex());
    assert.equal(mem.hash(), lmdb.hash());
  } finally {
    await lmdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory backend loses the open batch on reopen and keeps what was committed', () => {
  const be = new MemoryBackend();
  const b = be.bucket('key');
  be.batchTx.put(b, Uint8Array.of(1), Uint8Array.of(10));
  be.commitNow();
  be.batchTx.put(b, Uint8Array.of(2), Uint8Array.of(20));
  const after = be.reopen();
  const b2 = after.bucket('key');
  assert.deepEqual(after.get(b2, Uint8Array.of(1)), Uint8Array.of(10));
  assert.equal(after.get(b2, Uint8Array.of(2)), undefined);
  assert.throws(() => be.get(b, Uint8Array.of(1)), /closed/);
});

test('memory backend image carries the committed content to a new backend', () => {
  const be = new MemoryBackend();
  const b = be.bucket('lease');
  for (let i = 0; i < 50; i++) be.batchTx.put(b, Uint8Array.of(i, 255 - i), Uint8Array.of(i));
  be.setConsistentIndex(9);
  be.commitNow();
  be.batchTx.put(b, Uint8Array.of(200), Uint8Array.of(1));
  const copy = MemoryBackend.fromImage(be.image());
  assert.equal(copy.consistentIndex(), 9);
  assert.equal(copy.get(copy.bucket('lease'), Uint8Array.of(200)), undefined);
  be.batchTx.delete(b, Uint8Array.of(200));
  assert.equal(copy.hash(), be.hash());
});
