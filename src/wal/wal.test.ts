import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EntryType, type Entry, type HardState } from '../api/raftpb/types.js';
import { WalCorruptError, WalError } from './errors.js';
import { isFrame, parseFrame } from './record.js';
import { Wal, type WalOptions } from './wal.js';

const META = new TextEncoder().encode('node=1 cluster=2');
const SMALL: WalOptions = { segmentBytes: 16 * 1024 };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'wal-test-'));
  try {
    await fn(join(root, 'wal'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function entry(index: number, term = 1, size = 100): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { term, index, type: EntryType.EntryNormal, data };
}

function hs(term: number, commit: number): HardState {
  return { term, vote: 1n, commit };
}

async function reopen(dir: string, snap = { index: 0, term: 0 }, opts: WalOptions = SMALL) {
  const w = await Wal.open(dir, snap, opts);
  const r = await w.readAll();
  return { w, r };
}

/** Writes entries 1..n, one save per `batch` entries, and closes. */
async function fill(dir: string, n: number, batch = 1, opts: WalOptions = SMALL): Promise<void> {
  const w = await Wal.create(dir, META, opts);
  for (let i = 1; i <= n; i += batch) {
    const ents: Entry[] = [];
    for (let k = i; k < i + batch && k <= n; k++) ents.push(entry(k));
    await w.save(hs(1, ents[ents.length - 1]!.index), ents, true);
  }
  await w.close();
}

async function segmentPaths(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dir, n));
}

/** Frame boundaries [start, recEnd, frameEnd] of a segment file, in order. */
function frames(buf: Uint8Array): Array<{ start: number; recEnd: number; end: number }> {
  const out = [];
  let off = 0;
  while (off + 8 <= buf.length && buf.subarray(off, off + 8).some((b) => b !== 0)) {
    const f = parseFrame(buf, off);
    assert.ok(isFrame(f));
    out.push({ start: off, recEnd: f.recEnd, end: f.frameEnd });
    off = f.frameEnd;
  }
  return out;
}

function assertEntries(got: Entry[], from: number, to: number): void {
  assert.equal(got.length, to - from + 1, `entries ${from}..${to}`);
  for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], entry(from + i), `entry ${from + i}`);
}

test('a new WAL reopens with its metadata, no entries and an empty hard state', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META);
    await w.close();
    const { w: w2, r } = await reopen(dir, undefined, {});
    assert.deepEqual(r.metadata, META);
    assert.deepEqual(r.entries, []);
    assert.deepEqual(r.hardState, { term: 0, vote: 0n, commit: 0 });
    assert.equal(r.repaired, undefined);
    assert.deepEqual(await readdir(dir), ['0000000000000000-0000000000000000.wal']);
    await w2.close();
  });
});

test('entries and hard state round-trip across many segment cuts', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, SMALL);
    let i = 1;
    for (const batch of [1, 3, 50, 7, 200, 1, 1, 38, 20, 20, 20, 60, 2, 90]) {
      const ents = Array.from({ length: batch }, () => entry(i++));
      await w.save(hs(2, i - 1), ents, true);
    }
    assert.ok(w.stats.cuts >= 2, `cuts ${w.stats.cuts}`);
    await w.close();
    const paths = await segmentPaths(dir);
    assert.equal(paths.length, w.stats.cuts + 1);
    const { w: w2, r } = await reopen(dir);
    assertEntries(r.entries, 1, i - 1);
    assert.deepEqual(r.hardState, hs(2, i - 1));
    await w2.close();
  });
});

test('a reopened WAL keeps appending after the old tail and across further cuts', async () => {
  await withDir(async (dir) => {
    await fill(dir, 100, 10);
    for (let round = 0; round < 3; round++) {
      const { w, r } = await reopen(dir);
      const last = r.entries.length;
      await w.save(hs(1, last + 60), Array.from({ length: 60 }, (_, k) => entry(last + 1 + k)), true);
      await w.close();
    }
    const { w, r } = await reopen(dir);
    assertEntries(r.entries, 1, 280);
    await w.close();
  });
});

test('later entries at an index replace earlier ones and everything after (log truncation)', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, SMALL);
    await w.save(hs(1, 2), Array.from({ length: 10 }, (_, k) => entry(k + 1)), true);
    await w.save(hs(2, 2), [entry(6, 2), entry(7, 2)], true);
    await w.close();
    const { w: w2, r } = await reopen(dir);
    assert.deepEqual(
      r.entries.map((e) => [e.index, e.term]),
      [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 2], [7, 2]],
    );
    assert.deepEqual(r.hardState, hs(2, 2));
    await w2.close();
  });
});

test('the record frame is etcd’s: little-endian length with padding flag, then walpb.Record', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, Uint8Array.of(0xab), {});
    await w.close();
    const buf = await readFile((await segmentPaths(dir))[0]!);
    // crc record (type 4, crc 0): 4 record bytes padded by 4.
    assert.equal(buf.subarray(0, 16).toString('hex'), '0400000000000084' + '0804100000000000');
    // metadata record: type 1, crc = crc32c([0xab]), data [0xab]; padded to 16.
    const f = frames(buf);
    assert.deepEqual(f.map((x) => x.start), [0, 16, 40]);
    assert.equal(buf[16 + 7], 0x80 | (8 - (buf[16]! % 8)));
  });
});

test('a torn last record is cut off at every truncation offset, keeping everything before it', async () => {
  await withDir(async (dir) => {
    await fill(dir, 20, 1, { segmentBytes: 1 << 20 });
    const [path] = await segmentPaths(dir);
    const original = await readFile(path!);
    const fs = frames(original);
    const last = fs[fs.length - 1]!; // the hard state of the last save
    const lastEntry = fs[fs.length - 2]!;
    for (let cut = lastEntry.start + 1; cut < last.end; cut++) {
      await writeFile(path!, original.subarray(0, cut));
      const { w, r } = await reopen(dir);
      if (cut === last.start) {
        // Cut exactly between two frames: a clean end, nothing to repair.
        assert.equal(r.repaired, undefined);
        assertEntries(r.entries, 1, 20);
        await w.close();
        continue;
      }
      assert.ok(r.repaired !== undefined, `cut ${cut}: repaired`);
      assert.deepEqual(r.hardState, hs(1, 19));
      assert.equal(r.repaired.offset, cut < last.start ? lastEntry.start : last.start, `cut ${cut}`);
      assertEntries(r.entries, 1, cut < last.start ? 19 : 20);
      await w.close();
    }
  });
});

test('a repaired WAL accepts new saves that survive the next reopen', async () => {
  await withDir(async (dir) => {
    await fill(dir, 20, 1);
    const [path] = await segmentPaths(dir);
    const fs = frames(await readFile(path!));
    await truncate(path!, fs[fs.length - 2]!.start + 5);
    const { w, r } = await reopen(dir);
    assert.ok(r.repaired);
    assertEntries(r.entries, 1, 19);
    await w.save(hs(1, 21), [entry(20), entry(21)], true);
    await w.close();
    const { w: w2, r: r2 } = await reopen(dir);
    assert.equal(r2.repaired, undefined);
    assertEntries(r2.entries, 1, 21);
    await w2.close();
  });
});

test('a last record whose tail was zeroed is cut off; zeroed padding alone loses nothing', async () => {
  await withDir(async (dir) => {
    await fill(dir, 10, 1, { segmentBytes: 1 << 20 });
    const [path] = await segmentPaths(dir);
    const original = await readFile(path!);
    const fs = frames(original);
    const lastEntry = fs[fs.length - 2]!;
    const last = fs[fs.length - 1]!;
    // Zero from p to the end of the last frame; the file keeps its preallocated length.
    for (let p = last.start; p < last.end; p++) {
      const damaged = Buffer.from(original);
      damaged.fill(0, p, last.end);
      await writeFile(path!, damaged);
      const { w, r } = await reopen(dir);
      if (p === last.start) {
        // A wholly zeroed frame is indistinguishable from the clean end of the log.
        assert.equal(r.repaired, undefined);
        assert.deepEqual(r.hardState, hs(1, 9));
      } else if (p < last.recEnd) {
        assert.ok(r.repaired, `zeroed from ${p}`);
        assert.equal(r.repaired.offset, last.start);
      } else {
        assert.equal(r.repaired, undefined, `zeroed padding from ${p}`);
      }
      assertEntries(r.entries, 1, 10);
      await w.close();
    }
    // Zeroing inside the last entry record drops that entry (its hard state after it goes too).
    const damaged = Buffer.from(original);
    damaged.fill(0, lastEntry.start + 20, last.end);
    await writeFile(path!, damaged);
    const { w, r } = await reopen(dir);
    assert.equal(r.repaired?.offset, lastEntry.start);
    assertEntries(r.entries, 1, 9);
    await w.close();
  });
});

test('a damaged byte in a middle record of the last segment refuses to open with WalCorruptError', async () => {
  await withDir(async (dir) => {
    await fill(dir, 12, 1, { segmentBytes: 1 << 20 });
    const [path] = await segmentPaths(dir);
    const original = await readFile(path!);
    const fs = frames(original);
    const victim = fs[Math.floor(fs.length / 2)]!;
    for (let p = victim.start; p < victim.recEnd; p++) {
      // etcd's record type (byte 9) is outside the CRC, so damage there is not detectable by it.
      if (p === victim.start + 9) continue;
      for (const damage of [(b: number) => b ^ 0xff, (b: number) => b ^ 0x01, () => 0]) {
        const damaged = Buffer.from(original);
        const before = damaged[p]!;
        damaged[p] = damage(before);
        if (damaged[p] === before) continue;
        await writeFile(path!, damaged);
        const w = await Wal.open(dir, { index: 0, term: 0 }, SMALL);
        await assert.rejects(
          w.readAll(),
          (err: unknown) => err instanceof WalCorruptError && err.file === path && err.offset === victim.start && err.code === 'wal-corrupt',
          `byte ${p - victim.start} of the frame at ${victim.start}: ${before} -> ${damaged[p]}`,
        );
      }
    }
  });
});

test('a zeroed length word in the middle of the last segment is corruption, not the end of the log', async () => {
  await withDir(async (dir) => {
    await fill(dir, 12, 1, { segmentBytes: 1 << 20 });
    const [path] = await segmentPaths(dir);
    const buf = await readFile(path!);
    const victim = frames(buf)[10]!;
    buf.fill(0, victim.start, victim.start + 8);
    await writeFile(path!, buf);
    const w = await Wal.open(dir, { index: 0, term: 0 }, SMALL);
    await assert.rejects(w.readAll(), (err: unknown) => err instanceof WalCorruptError && err.offset === victim.start && /valid records follow/.test(err.message));
  });
});

test('a flipped byte in a segment that is not the last refuses to open, even at its tail', async () => {
  await withDir(async (dir) => {
    await fill(dir, 400, 5);
    const paths = await segmentPaths(dir);
    assert.ok(paths.length >= 3);
    const buf = await readFile(paths[1]!);
    const fs = frames(buf);
    const lastFrame = fs[fs.length - 1]!;
    buf[lastFrame.recEnd - 1]! ^= 0x10;
    await writeFile(paths[1]!, buf);
    const w = await Wal.open(dir, { index: 0, term: 0 }, SMALL);
    await assert.rejects(w.readAll(), (err: unknown) => err instanceof WalCorruptError && err.file === paths[1] && /crc mismatch/.test(err.message));
    // Truncating a middle segment is corruption too, not a torn tail.
    await writeFile(paths[1]!, buf.subarray(0, lastFrame.start + 3));
    const w2 = await Wal.open(dir, { index: 0, term: 0 }, SMALL);
    await assert.rejects(w2.readAll(), WalCorruptError);
  });
});

test('a missing middle segment is reported, not skipped', async () => {
  await withDir(async (dir) => {
    await fill(dir, 400, 5);
    const paths = await segmentPaths(dir);
    await unlink(paths[1]!);
    await assert.rejects(Wal.open(dir, { index: 0, term: 0 }, SMALL), (err: unknown) => err instanceof WalCorruptError && /sequence jumps/.test(err.message));
  });
});

test('snapshot markers let the log be opened at a snapshot and old segments released', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, SMALL);
    for (let i = 1; i <= 300; i += 10) {
      await w.save(hs(1, i + 9), Array.from({ length: 10 }, (_, k) => entry(i + k)), true);
    }
    await w.saveSnapshot({ index: 200, term: 1 });
    const before = (await segmentPaths(dir)).length;
    const released = await w.releaseLockTo(200);
    const after = await segmentPaths(dir);
    assert.ok(released > 0, 'some segments released');
    assert.equal(after.length, before - released);
    assert.deepEqual(w.segmentFiles(), after);
    await w.save(hs(1, 310), Array.from({ length: 10 }, (_, k) => entry(301 + k)), true);
    await w.close();

    const { w: w2, r } = await reopen(dir, { index: 200, term: 1 });
    assertEntries(r.entries, 201, 310);
    assert.deepEqual(r.hardState, hs(1, 310));
    await w2.close();
    await assert.rejects(Wal.open(dir, { index: 0, term: 0 }, SMALL), (err: unknown) => err instanceof WalError && err.code === 'wal-file-not-found');
    const mismatched = await Wal.open(dir, { index: 200, term: 2 }, SMALL);
    await assert.rejects(mismatched.readAll(), (err: unknown) => err instanceof WalError && err.code === 'wal-snapshot-mismatch');
    const unknown = await Wal.open(dir, { index: 250, term: 1 }, SMALL);
    await assert.rejects(unknown.readAll(), (err: unknown) => err instanceof WalError && err.code === 'wal-snapshot-not-found');
  });
});

test('validSnapshotEntries lists markers at or below the saved commit index', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, SMALL);
    await w.save(hs(1, 5), Array.from({ length: 10 }, (_, k) => entry(k + 1)), true);
    await w.saveSnapshot({ index: 3, term: 1 });
    await w.saveSnapshot({ index: 8, term: 1 });
    await w.close();
    assert.deepEqual(await Wal.validSnapshotEntries(dir), [
      { index: 0, term: 0 },
      { index: 3, term: 1 },
    ]);
  });
});

test('group commit: 1,000 concurrent saves complete in order with far fewer fsyncs', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, SMALL);
    const order: number[] = [];
    const saves = [];
    for (let i = 1; i <= 1000; i++) saves.push(w.save(hs(1, i), [entry(i)], true).then(() => order.push(i)));
    // A save made while the first group is in flight lands in a later group.
    await Promise.all(saves);
    assert.deepEqual(order, Array.from({ length: 1000 }, (_, k) => k + 1));
    assert.ok(w.stats.fsyncs < 100, `fsyncs ${w.stats.fsyncs} for 1000 saves`);
    await w.close();
    const { w: w2, r } = await reopen(dir);
    assertEntries(r.entries, 1, 1000);
    await w2.close();
  });
});

test('saves without mustSync issue no fsync; close makes them durable', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META, { segmentBytes: 1 << 20 });
    for (let i = 1; i <= 20; i++) await w.save(hs(1, i), [entry(i)], false);
    assert.equal(w.stats.fsyncs, 0);
    assert.equal(w.stats.writes, 20);
    await w.close();
    const { w: w2, r } = await reopen(dir);
    assertEntries(r.entries, 1, 20);
    await w2.close();
  });
});

test('misuse is refused with WalError codes', async () => {
  await withDir(async (dir) => {
    const w = await Wal.create(dir, META);
    await assert.rejects(Wal.create(dir, META), (err: unknown) => err instanceof WalError && err.code === 'wal-exists');
    await w.close();
    await assert.rejects(w.save(hs(1, 1), [entry(1)], true), (err: unknown) => err instanceof WalError && err.code === 'wal-closed');
    const w2 = await Wal.open(dir, { index: 0, term: 0 });
    await assert.rejects(w2.save(hs(1, 1), [entry(1)], true), (err: unknown) => err instanceof WalError && err.code === 'wal-not-ready');
    await w2.readAll();
    await w2.close();
  });
});

test('a leftover half-built segment from a crash during a cut is discarded', async () => {
  await withDir(async (dir) => {
    await fill(dir, 30, 1);
    await writeFile(join(dir, '00000000000000ff-0000000000000099.wal.tmp'), 'partial');
    const { w, r } = await reopen(dir);
    assertEntries(r.entries, 1, 30);
    assert.ok(!(await readdir(dir)).some((n) => n.endsWith('.tmp')));
    await w.close();
  });
});

/** Runs crash-child until it has acknowledged `acks` saves, SIGKILLs it, and returns the highest acked index. */
async function runAndKill(dir: string, acks: number, concurrency: number): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const child = join(self, '..', self.endsWith('.ts') ? 'crash-child.ts' : 'crash-child.js');
  const proc = spawn(process.execPath, [...process.execArgv, child, dir, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', () => resolve());
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      count = out.split('\n').filter((l) => /^\d+$/.test(l)).length;
      if (count >= acks) proc.kill('SIGKILL');
    });
  });
  assert.equal(proc.signalCode, 'SIGKILL', 'the child was killed, not finished');
  // A line cut off by the kill was not fully printed: only complete lines count as acks.
  const acked = out.split('\n').slice(0, -1).filter((l) => /^\d+$/.test(l)).map(Number);
  assert.ok(acked.length >= acks);
  return Math.max(...acked);
}

test('crash: every save acknowledged before SIGKILL is present after reopening', async () => {
  await withDir(async (dir) => {
    let lastAcked = 0;
    for (const [acks, concurrency] of [
      [300, 1],
      [700, 16],
      [500, 4],
    ] as const) {
      const acked = await runAndKill(dir, acks, concurrency);
      assert.ok(acked > lastAcked);
      const { w, r } = await reopen(dir, undefined, { segmentBytes: 64 * 1024 });
      assert.ok(r.entries.length >= acked, `acked ${acked}, recovered ${r.entries.length}`);
      assertEntriesContiguous(r.entries);
      assert.ok(r.hardState.commit >= acked - 1);
      await w.close();
      lastAcked = r.entries.length;
    }
    assert.ok((await segmentPaths(dir)).length > 1, 'segments were cut while crashing');
  });
});

function assertEntriesContiguous(ents: Entry[]): void {
  for (let i = 0; i < ents.length; i++) {
    assert.equal(ents[i]!.index, i + 1);
    assert.equal(ents[i]!.data.length, 100);
  }
}
