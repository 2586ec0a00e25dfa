import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Backend } from './backend.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

function tempPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'backend-'));
  return { path: join(dir, 'db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function scan(be: Backend, bucket: string, start = '', end?: string, limit = 0): string[] {
  const r = be.range(be.bucket(bucket), enc(start), end === undefined ? undefined : enc(end), limit);
  return r.keys.map((k, i) => `${dec(k)}=${dec(r.values[i])}`);
}

test('writes are visible before commit and survive a reopen after it', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    const b = be.bucket('key');
    be.batchTx.put(b, enc('a'), enc('1'));
    assert.equal(dec(be.get(b, enc('a'))), '1');
    const committing = be.commit();
    be.batchTx.put(b, enc('b'), enc('2'));
    assert.equal(dec(be.get(b, enc('a'))), '1', 'in-flight batch stays readable');
    await committing;
    assert.equal(dec(be.get(b, enc('a'))), '1', 'committed write readable from lmdb');
    await be.close();

    const again = Backend.open({ path });
    assert.deepEqual(scan(again, 'key'), ['a=1', 'b=2'], 'close commits the open batch');
    await again.close();
  } finally {
    cleanup();
  }
});

test('range merges pending puts and deletes with committed data in key order', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    const b = be.bucket('key');
    for (const k of ['b', 'd', 'f', 'h']) be.batchTx.put(b, enc(k), enc(k.toUpperCase()));
    await be.commit();
    be.batchTx.put(b, enc('a'), enc('new'));
    be.batchTx.delete(b, enc('d'));
    be.batchTx.put(b, enc('f'), enc('F2'));
    be.batchTx.put(b, enc('g'), enc('G'));
    const inflight = be.commit();
    be.batchTx.delete(b, enc('g'));
    be.batchTx.put(b, enc('i'), enc('I'));
    assert.deepEqual(scan(be, 'key'), ['a=new', 'b=B', 'f=F2', 'h=H', 'i=I']);
    assert.deepEqual(scan(be, 'key', 'b', 'h'), ['b=B', 'f=F2']);
    assert.deepEqual(scan(be, 'key', 'a', undefined, 2), ['a=new', 'b=B']);
    await inflight;
    await be.commit();
    assert.deepEqual(scan(be, 'key'), ['a=new', 'b=B', 'f=F2', 'h=H', 'i=I']);
    assert.equal(be.get(b, enc('d')), undefined);
    await be.close();
  } finally {
    cleanup();
  }
});

test('consistent index commits with the data and reads back on open', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    assert.equal(be.consistentIndex(), 0);
    be.batchTx.put(be.bucket('key'), enc('x'), enc('y'));
    be.setConsistentIndex(42);
    assert.equal(be.consistentIndex(), 42);
    await be.commit();
    be.setConsistentIndex(2 ** 40 + 7);
    await be.close();
    const again = Backend.open({ path });
    assert.equal(again.consistentIndex(), 2 ** 40 + 7);
    await again.close();
  } finally {
    cleanup();
  }
});

test('hash ignores the consistent index and is the same committed or pending', async () => {
  const p1 = tempPath();
  const p2 = tempPath();
  try {
    const a = Backend.open({ path: p1.path });
    const b = Backend.open({ path: p2.path });
    for (const be of [a, b]) {
      be.bucket('key');
      be.bucket('lease');
    }
    a.batchTx.put(a.bucket('key'), enc('k1'), enc('v1'));
    a.batchTx.put(a.bucket('lease'), enc('l'), enc('1'));
    a.setConsistentIndex(5);
    await a.commit();
    b.batchTx.put(b.bucket('lease'), enc('l'), enc('1'));
    b.batchTx.put(b.bucket('key'), enc('k1'), enc('v1'));
    b.setConsistentIndex(9);
    assert.equal(a.hash(), b.hash());
    b.batchTx.put(b.bucket('key'), enc('k2'), enc('v2'));
    assert.notEqual(a.hash(), b.hash());
    await a.close();
    await b.close();
  } finally {
    p1.cleanup();
    p2.cleanup();
  }
});

test('size grows with data and defrag shrinks the file keeping the data', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    const b = be.bucket('key');
    const value = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 4000; i++) be.batchTx.put(b, enc(`k${String(i).padStart(5, '0')}`), value);
    await be.commit();
    const full = be.size();
    assert.ok(full.size >= 4_000_000, `size ${full.size}`);
    assert.ok(full.sizeInUse > 4_000_000 && full.sizeInUse <= full.size);
    for (let i = 0; i < 4000; i++) if (i % 10 !== 0) be.batchTx.delete(b, enc(`k${String(i).padStart(5, '0')}`));
    await be.commit();
    const sparse = be.size();
    assert.ok(sparse.sizeInUse < full.sizeInUse / 2, `in use ${sparse.sizeInUse}`);
    const hashBefore = be.hash();
    await be.defrag();
    const after = be.size();
    assert.ok(after.size < full.size / 2, `size after defrag ${after.size}`);
    assert.equal(be.hash(), hashBefore);
    assert.equal(scan(be, 'key').length, 400);
    await be.close();
  } finally {
    cleanup();
  }
});

test('buckets created earlier are found on open', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    be.batchTx.put(be.bucket('zeta'), enc('z'), enc('1'));
    be.batchTx.put(be.bucket('alpha'), enc('a'), enc('1'));
    await be.close();
    const again = Backend.open({ path });
    assert.deepEqual(again.bucketNames(), ['alpha', 'meta', 'zeta']);
    await again.close();
  } finally {
    cleanup();
  }
});

test('scan sees the same entries as forEach, values readable during the visit', async () => {
  const { path, cleanup } = tempPath();
  try {
    const be = Backend.open({ path });
    const b = be.bucket('key');
    for (let i = 0; i < 300; i++) be.batchTx.put(b, enc(`k${String(i).padStart(3, '0')}`), enc(`value-${i}`.repeat(1 + (i % 7))));
    await be.commit();
    be.batchTx.delete(b, enc('k005'));
    be.batchTx.put(b, enc('k006'), enc('pending'));
    const copied: string[] = [];
    be.forEach(b, enc('k000'), enc('k100'), (k, v) => {
      copied.push(`${dec(k)}=${dec(v)}`);
    });
    const viewed: string[] = [];
    be.scan(b, enc('k000'), enc('k100'), (k, v) => {
      viewed.push(`${dec(k)}=${dec(v)}`);
    });
    assert.equal(viewed.length, 99);
    assert.deepEqual(viewed, copied);
    assert.ok(viewed.includes('k006=pending') && !viewed.some((e) => e.startsWith('k005=')));
    await be.close();
  } finally {
    cleanup();
  }
});

test('copyTo writes a consistent database that opens with the same data', async () => {
  const src = tempPath();
  const dst = tempPath();
  try {
    const be = Backend.open({ path: src.path });
    be.batchTx.put(be.bucket('key'), enc('a'), enc('1'));
    be.setConsistentIndex(7);
    await be.commit();
    be.batchTx.put(be.bucket('key'), enc('b'), enc('2'));
    await be.copyTo(dst.path);
    be.batchTx.put(be.bucket('key'), enc('c'), enc('3'));
    const copy = Backend.open({ path: dst.path });
    assert.deepEqual(scan(copy, 'key'), ['a=1', 'b=2'], 'pending writes are committed into the copy; later ones are not');
    assert.equal(copy.consistentIndex(), 7);
    await copy.close();
    await be.close();
  } finally {
    src.cleanup();
    dst.cleanup();
  }
});
