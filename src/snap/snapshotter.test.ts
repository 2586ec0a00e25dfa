import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptySnapshot, type Snapshot } from '../api/raftpb/types.js';
import { crc32c } from '../pkg/crc32c.js';
import { SnapError } from './errors.js';
import { Snapshotter, decodeSnapFile, encodeSnapFile, snapName } from './snapshotter.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'snap-test-'));
  try {
    await fn(join(root, 'member', 'snap'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function snap(term: number, index: number, data = `state at ${index}`): Snapshot {
  return {
    data: new TextEncoder().encode(data),
    metadata: {
      confState: { voters: [1n, 0xffffffffffffffffn], learners: [3n], votersOutgoing: [], learnersNext: [], autoLeave: false },
      index,
      term,
    },
  };
}

test('a saved snapshot loads back equal, under etcd’s term-index file name, leaving no temp file', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    await s.save(snap(2, 0x1234));
    assert.deepEqual(await readdir(dir), ['0000000000000002-0000000000001234.snap']);
    assert.deepEqual(await s.loadNewestAvailable(), snap(2, 0x1234));
  });
});

test('the file is snappb.Snapshot: crc field 1, then the raftpb snapshot as field 2', () => {
  const s = snap(1, 5, 'x');
  const file = encodeSnapFile(s);
  const back = decodeSnapFile(file, 'mem');
  assert.deepEqual(back, s);
  assert.equal(file[0], 0x08);
  let p = 1;
  const varint = (): number => {
    let v = 0;
    for (let mul = 1; ; mul *= 128) {
      const b = file[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
    }
  };
  const crc = varint();
  assert.equal(file[p++], 0x12);
  const len = varint();
  assert.equal(p + len, file.length);
  const data = file.subarray(p);
  assert.equal(crc, crc32c(data));
});

test('saving an empty snapshot writes nothing', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    await s.save(emptySnapshot());
    assert.deepEqual(await s.snapNames(), []);
    assert.equal(await s.loadNewestAvailable(), undefined);
  });
});

test('loadNewestAvailable picks the newest snapshot that the WAL has a marker for', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    await s.save(snap(1, 10));
    await s.save(snap(1, 20));
    await s.save(snap(2, 30));
    assert.deepEqual(await s.snapNames(), [snapName(2, 30), snapName(1, 20), snapName(1, 10)]);
    const walSnaps = [
      { index: 0, term: 0 },
      { index: 10, term: 1 },
      { index: 20, term: 1 },
    ];
    assert.equal((await s.loadNewestAvailable(walSnaps))?.metadata.index, 20);
    assert.equal((await s.loadNewestAvailable())?.metadata.index, 30);
    assert.equal(await s.loadNewestAvailable([{ index: 20, term: 2 }]), undefined);
  });
});

test('a damaged newest snapshot is renamed .broken and the next one is loaded', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    await s.save(snap(1, 10));
    await s.save(snap(1, 20));
    await s.save(snap(1, 30));
    const p30 = join(dir, snapName(1, 30));
    const bytes = await readFile(p30);
    bytes[bytes.length - 3]! ^= 0x40;
    await writeFile(p30, bytes);
    await writeFile(join(dir, snapName(1, 20)), '');
    assert.equal((await s.loadNewestAvailable())?.metadata.index, 10);
    assert.deepEqual((await readdir(dir)).sort(), [snapName(1, 10), `${snapName(1, 20)}.broken`, `${snapName(1, 30)}.broken`]);
  });
});

test('read reports empty, damaged and undecodable files with etcd’s texts', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    await s.save(snap(1, 10));
    const path = join(dir, snapName(1, 10));
    const good = await readFile(path);
    const expectCode = async (code: string, message?: RegExp) =>
      assert.rejects(Snapshotter.read(path), (err: unknown) => err instanceof SnapError && err.code === code && err.file === path && (message?.test(err.message) ?? true));

    await writeFile(path, '');
    await expectCode('snap-empty', /^snap: empty snapshot$/);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 1;
    await writeFile(path, flipped);
    await expectCode('snap-crc-mismatch', /^snap: crc mismatch$/);
    await writeFile(path, good.subarray(0, good.length - 4));
    await expectCode('snap-corrupt');
  });
});

test('purge keeps the newest N snapshot files and clears interrupted saves', async () => {
  await withDir(async (dir) => {
    const s = new Snapshotter(dir);
    for (const i of [1, 2, 3, 4, 5]) await s.save(snap(1, i * 100));
    await writeFile(join(dir, `${snapName(1, 600)}.tmp`), 'partial');
    const deleted = await s.purge(2);
    assert.deepEqual(deleted, [snapName(1, 300), snapName(1, 200), snapName(1, 100)]);
    assert.deepEqual((await readdir(dir)).sort(), [snapName(1, 400), snapName(1, 500)]);
  });
});
