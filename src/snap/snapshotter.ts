/**
 * Raft snapshot files under `<data-dir>/member/snap`, in etcd's format: a file
 * `%016x-%016x.snap` (term, index) holding snappb.Snapshot { crc uint32 = 1; data bytes = 2 }, where
 * data is the encoded raftpb.Snapshot and crc its CRC-32C. A file is written under a temporary
 * name, fsynced, then renamed and the directory fsynced, so a crash never leaves a partial `.snap`.
 * A file that fails to load is renamed `.broken` and the next newest is tried, as etcd does.
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtoDecodeError, ProtoReader, decodeSnapshot, encodeSnapshotTo, encodedSizeSnapshot, sizeVarint, writeVarint } from '../api/raftpb/codec.js';
import { isEmptySnapshot, type Snapshot } from '../api/raftpb/types.js';
import { crc32c } from '../pkg/crc32c.js';
import { SnapError } from './errors.js';

const SNAP_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

/** A snapshot's identity as recorded by a WAL snapshot marker. */
export interface SnapshotRef {
  index: number;
  term: number;
}

/** The file name of the snapshot at `term` and `index`. */
export function snapName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Encodes a snapshot file: snappb.Snapshot with the CRC-32C of the encoded raft snapshot. */
export function encodeSnapFile(snapshot: Snapshot): Uint8Array {
  const dataSize = encodedSizeSnapshot(snapshot);
  const buf = new Uint8Array(16 + dataSize);
  // Encode the data first, at its furthest possible position, to checksum it; then move it into place.
  const maxHead = 1 + 5 + 1 + sizeVarint(dataSize);
  encodeSnapshotTo(snapshot, buf, maxHead);
  const crc = crc32c(buf.subarray(maxHead, maxHead + dataSize));
  let p = 0;
  buf[p++] = 0x08;
  p = writeVarint(buf, p, crc);
  buf[p++] = 0x12;
  p = writeVarint(buf, p, dataSize);
  buf.copyWithin(p, maxHead, maxHead + dataSize);
  return buf.slice(0, p + dataSize);
}

/** Decodes and verifies a snapshot file's bytes; throws SnapError naming `file`. */
export function decodeSnapFile(bytes: Uint8Array, file: string): Snapshot {
  if (bytes.length === 0) throw new SnapError('snap-empty', 'snap: empty snapshot', file);
  let crc = 0;
  let data: Uint8Array | undefined;
  try {
    const r = new ProtoReader(bytes);
    r.what = 'snappb.Snapshot';
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === 0x08) crc = r.varint();
      else if (tag === 0x12) data = r.bytes();
      else r.skip(tag & 7);
    }
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw new SnapError('snap-corrupt', `snap: ${err.message}`, file);
    throw err;
  }
  if (data === undefined || data.length === 0 || crc === 0) throw new SnapError('snap-empty', 'snap: empty snapshot', file);
  if (crc32c(data) !== crc) throw new SnapError('snap-crc-mismatch', 'snap: crc mismatch', file);
  try {
    return decodeSnapshot(data);
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw new SnapError('snap-corrupt', `snap: ${err.message}`, file);
    throw err;
  }
}

/** Saves and loads raft snapshots in one directory. */
export class Snapshotter {
  constructor(
    /** The snapshot directory (`<data-dir>/member/snap`); created on first save. */
    readonly dir: string,
  ) {}

  /**
   * Writes `snapshot` durably as `%016x-%016x.snap` (term, index). An empty snapshot (index 0) is
   * not written. Resolves once the file and its directory entry are fsynced.
   */
  async save(snapshot: Snapshot): Promise<void> {
    if (isEmptySnapshot(snapshot)) return;
    const bytes = encodeSnapFile(snapshot);
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, snapName(snapshot.metadata.term, snapshot.metadata.index));
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off, off)).bytesWritten;
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    await rename(tmp, path);
    await fsyncDir(this.dir);
  }

  /** Names of the snapshot files, newest (highest term, then index) first. */
  async snapNames(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // Fixed-width hex sorts like the numbers it spells.
    return names.filter((n) => SNAP_RE.test(n)).sort().reverse();
  }

  /** Reads and verifies one snapshot file. Throws SnapError when it is empty, damaged or undecodable. */
  static async read(path: string): Promise<Snapshot> {
    const b = await readFile(path);
    return decodeSnapFile(new Uint8Array(b.buffer, b.byteOffset, b.length), path);
  }

  /**
   * The newest valid snapshot whose (index, term) is one of `walSnaps` (the WAL's markers, see
   * Wal.validSnapshotEntries), or any when `walSnaps` is undefined; undefined when there is none.
   * Files that fail to load are renamed `<name>.broken` and skipped.
   */
  async loadNewestAvailable(walSnaps?: readonly SnapshotRef[]): Promise<Snapshot | undefined> {
    for (const name of await this.snapNames()) {
      const path = join(this.dir, name);
      let snap: Snapshot;
      try {
        snap = await Snapshotter.read(path);
      } catch (err) {
        if (!(err instanceof SnapError)) throw err;
        await rename(path, `${path}.broken`);
        continue;
      }
      const m = snap.metadata;
      if (walSnaps === undefined || walSnaps.some((w) => w.index === m.index && w.term === m.term)) return snap;
    }
    return undefined;
  }

  /**
   * Deletes all but the newest `keep` snapshot files (and leftover temporary files from an
   * interrupted save). Resolves to the names deleted.
   */
  async purge(keep: number): Promise<string[]> {
    const names = await this.snapNames();
    const victims = names.slice(Math.max(0, keep));
    for (const name of victims) await unlink(join(this.dir, name));
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (name.endsWith('.snap.tmp')) await unlink(join(this.dir, name));
    }
    if (victims.length > 0) await fsyncDir(this.dir);
    return victims;
  }
}
