/**
 * The write-ahead log: raft's hard state, entries and snapshot markers, appended to segment files
 * in a directory and fsynced before anything that depends on them is acknowledged (Raft §5.2:
 * currentTerm, votedFor and the log are persistent state, updated on stable storage before
 * responding to RPCs).
 *
 * Layout and recovery follow etcd's WAL so the two read alike: segments `%016x-%016x.wal`
 * (sequence, first index), preallocated to `segmentBytes` and cut when full; each begins with a crc
 * record carrying the running CRC, the metadata record, and the last hard state. A new log holds
 * one segment with a snapshot marker at index 0. See record.ts for the frame format and
 * segment-scan.ts for how a torn tail is told from corruption.
 *
 * Writes are grouped: everything saved while the previous write and fsync run goes out as one write
 * followed by (at most) one fsync; when nothing earlier is unsynced, a synced group is one O_DSYNC
 * write instead. Saves complete in call order.
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProtoDecodeError, decodeEntry, decodeHardState } from '../api/raftpb/codec.js';
import { isEmptyHardState, type Entry, type HardState } from '../api/raftpb/types.js';
import { WalCorruptError, WalError } from './errors.js';
import { fsyncDir, parseWalName, walName } from './file-names.js';
import { RecordEncoder, RecordType, decodeWalSnapshot, type WalSnapshot } from './record.js';
import { scanSegment } from './segment-scan.js';
import { onMicrotask } from '../pkg/microtask.js';
import { bytesEqual } from '../pkg/bytes.js';

/** etcd's segment size: 64 MiB. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

/** Tuning for tests and tools. */
export interface WalOptions {
  /** Size a segment is preallocated to and cut at. Default SEGMENT_BYTES. */
  segmentBytes?: number;
}

/** What a WAL holds after the snapshot it was opened at. */
export interface WalReadResult {
  /** The metadata given to Wal.create (etcd: node and cluster IDs). */
  metadata: Uint8Array;
  /** The last hard state saved (zero if none). */
  hardState: HardState;
  /** Entries after the snapshot index, with later writes at an index replacing earlier ones. */
  entries: Entry[];
  /** Set when a torn write at the tail was cut off: which file, from which offset, and why. */
  repaired?: { file: string; offset: number; reason: string };
}

/** Counters for tests and metrics. */
export interface WalStats {
  /** Write calls issued for saves. */
  writes: number;
  /** fsync/fdatasync calls on segment files. */
  fsyncs: number;
  /** Segments cut. */
  cuts: number;
}

interface Segment {
  seq: number;
  index: number;
  path: string;
}

/** Saves queued while the previous group is being written. */
interface Batch {
  /** Flat pairs (op, value), in call order. */
  ops: unknown[];
  sync: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const OP_ENTRIES = 1;
const OP_STATE = 2;
const OP_SNAPSHOT = 3;

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { ops: [], sync: false, promise, resolve, reject };
}

/**
 * Flags of the tail's second descriptor: with O_DSYNC each write returns only once its bytes are
 * durable (as write then fdatasync), in one system call and one trip to the thread pool.
 */
const DSYNC_FLAGS = fsConstants.O_RDWR | fsConstants.O_DSYNC;

async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

/** Reads a whole segment as a plain Uint8Array (whose slice() copies, unlike Buffer's). */
async function readSegment(path: string): Promise<Uint8Array> {
  const b = await readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Segment files of `dir`, ordered by sequence number. */
async function listSegments(dir: string): Promise<Segment[]> {
  const segs: Segment[] = [];
  for (const name of await readdir(dir)) {
    const p = parseWalName(name);
    if (p !== undefined) segs.push({ seq: p.seq, index: p.index, path: join(dir, name) });
  }
  return segs.sort((a, b) => a.seq - b.seq);
}

function checkSequence(dir: string, segs: readonly Segment[]): void {
  for (let i = 1; i < segs.length; i++) {
    if (segs[i]!.seq !== segs[i - 1]!.seq + 1) {
      throw new WalCorruptError(segs[i]!.path, 0, `segment sequence jumps from ${segs[i - 1]!.seq} to ${segs[i]!.seq} in ${dir}`);
    }
  }
}

/** A write-ahead log open for appending. Create with Wal.create, or Wal.open then readAll. */
export class Wal {
  /** Counters for tests and metrics. */
  readonly stats: WalStats = { writes: 0, fsyncs: 0, cuts: 0 };

  private readonly segmentBytes: number;
  /** Segments from the oldest not yet released; the last is the tail being appended to. */
  private segments: Segment[];
  private fh: FileHandle | undefined;
  /** The tail opened with O_DSYNC, for synced writes when nothing before them is unsynced. */
  private dsyncFh: FileHandle | undefined;
  /** Where the next frame goes in the tail segment. */
  private tailOffset = 0;
  private encoder = new RecordEncoder(0);
  private metadata: Uint8Array = new Uint8Array(0);
  /** The last hard state written, restated at the head of each new segment. */
  private state: HardState = { term: 0, vote: 0n, commit: 0 };
  /** Index of the last entry written (names the next segment). */
  private enti = 0;
  /** Whether bytes were written since the last fsync. */
  private unsynced = false;
  private ready = false;
  private closed = false;
  private failure: Error | undefined;
  /** The group accepting saves; null while none is waiting. */
  private open: Batch | null = null;
  /** The promise of the last group handed to the flusher. */
  private lastPromise: Promise<void> | undefined;
  private flushing = false;
  /** Index into `segments` of the first segment readAll reads. */
  private startAt = 0;

  private constructor(
    /** The WAL directory. */
    readonly dir: string,
    segments: Segment[],
    private readonly start: WalSnapshot,
    opts: WalOptions,
  ) {
    this.segments = segments;
    this.segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
  }

  /** Whether `dir` holds a WAL (any segment file). */
  static async exists(dir: string): Promise<boolean> {
    try {
      return (await readdir(dir)).some((n) => parseWalName(n) !== undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Creates a new WAL in `dir` (which must not hold one) holding `metadata` and a snapshot marker
   * at index 0, ready for saves. The directory appears atomically: it is built as `dir.tmp`,
   * fsynced and renamed.
   */
  static async create(dir: string, metadata: Uint8Array, opts: WalOptions = {}): Promise<Wal> {
    if (await Wal.exists(dir)) throw new WalError('wal-exists', `wal: ${dir} already holds a WAL`);
    const tmp = `${dir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const name = walName(0, 0);
    const w = new Wal(dir, [{ seq: 0, index: 0, path: join(dir, name) }], { index: 0, term: 0 }, opts);
    const fh = await open(join(tmp, name), 'w+');
    try {
      await fh.truncate(w.segmentBytes);
      const enc = w.encoder;
      enc.appendCrc();
      enc.appendMetadata(metadata);
      enc.appendSnapshot({ index: 0, term: 0 });
      await writeFully(fh, enc.bytes(), 0);
      w.tailOffset = enc.size;
      await fh.sync();
      try {
        await rmdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await mkdir(dirname(dir), { recursive: true });
      await rename(tmp, dir);
      await fsyncDir(dirname(dir));
    } catch (err) {
      await fh.close();
      throw err;
    }
    w.fh = fh;
    w.dsyncFh = await open(join(dir, name), DSYNC_FLAGS);
    w.metadata = Uint8Array.prototype.slice.call(metadata);
    w.ready = true;
    return w;
  }

  /**
   * Opens the WAL in `dir` positioned at `snap`, the snapshot recovery starts from ({0, 0} for
   * none). Call readAll next; saves are accepted after it.
   */
  static async open(dir: string, snap: WalSnapshot, opts: WalOptions = {}): Promise<Wal> {
    const segs = await listSegments(dir);
    let start = -1;
    for (let i = segs.length - 1; i >= 0; i--) {
      if (segs[i]!.index <= snap.index) {
        start = i;
        break;
      }
    }
    if (start < 0) throw new WalError('wal-file-not-found', `wal: no segment in ${dir} covers snapshot index ${snap.index}`);
    checkSequence(dir, segs.slice(start));
    // A crash while cutting can leave a half-built segment behind; it was never part of the log.
    for (const name of await readdir(dir)) {
      if (name.endsWith('.wal.tmp')) await unlink(join(dir, name));
    }
    const w = new Wal(dir, segs, snap, opts);
    w.startAt = start;
    return w;
  }

  /**
   * Snapshot markers in the WAL at `dir` that are safe to load a snapshot file for: those whose
   * index is at most the last committed index saved. Reads without repairing; a torn tail is
   * tolerated, corruption throws.
   */
  static async validSnapshotEntries(dir: string): Promise<WalSnapshot[]> {
    const segs = await listSegments(dir);
    checkSequence(dir, segs);
    const snaps: WalSnapshot[] = [];
    let state: HardState = { term: 0, vote: 0n, commit: 0 };
    let crc = 0;
    for (let i = 0; i < segs.length; i++) {
      const path = segs[i]!.path;
      const buf = await readSegment(path);
      const scan = scanSegment(buf, path, crc, i === segs.length - 1);
      crc = scan.crc;
      const r = scan.records;
      for (let k = 0; k < r.length; k += 3) {
        if (r[k] === RecordType.Snapshot) {
          const s = decodeWalSnapshot(buf, r[k + 1]!, r[k + 2]!);
          if (typeof s === 'string') throw new WalCorruptError(path, r[k + 1]!, s);
          snaps.push(s);
        } else if (r[k] === RecordType.State) {
          state = decodeHardStateAt(buf, path, r[k + 1]!, r[k + 2]!);
        }
      }
    }
    return snaps.filter((s) => s.index <= state.commit);
  }

  /**
   * Reads the log from the snapshot it was opened at: metadata, last hard state, and the entries
   * after the snapshot. Cuts off a torn tail (reported in `repaired`) and readies the WAL for
   * saves. Throws WalCorruptError for damage anywhere else, and WalError 'wal-snapshot-not-found'
   * or 'wal-snapshot-mismatch' when the log has no marker for the snapshot.
   */
  async readAll(): Promise<WalReadResult> {
    if (this.ready || this.closed) throw new WalError('wal-not-ready', 'wal: readAll is only valid once, right after open');
    const snap = this.start;
    let metadata: Uint8Array | undefined;
    let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
    const entries: Entry[] = [];
    let match = false;
    let crc = 0;
    let enti = snap.index;
    let repaired: WalReadResult['repaired'];
    let tailEnd = 0;
    let tailLength = 0;
    let dirtyTail = false;
    for (let i = this.startAt; i < this.segments.length; i++) {
      const path = this.segments[i]!.path;
      const isLast = i === this.segments.length - 1;
      let buf = await readSegment(path);
      const scan = scanSegment(buf, path, crc, isLast);
      crc = scan.crc;
      if (isLast) {
        tailEnd = scan.end;
        tailLength = buf.length;
        dirtyTail = scan.dirtyTail;
        if (scan.torn !== undefined) repaired = { file: path, offset: scan.end, reason: scan.torn };
      }
      // Entries are views into the buffer: keep only the used part of a mostly empty segment alive.
      if (scan.end < buf.length / 2) buf = buf.slice(0, scan.end);
      const r = scan.records;
      for (let k = 0; k < r.length; k += 3) {
        const ds = r[k + 1]!;
        const de = r[k + 2]!;
        switch (r[k]) {
          case RecordType.Entry: {
            const e = decodeEntryAt(buf, path, ds, de);
            if (e.index > snap.index) {
              // A later write at an index replaces it and everything after (raft log truncation, §5.3).
              const keep = e.index - snap.index - 1;
              if (keep > entries.length) {
                throw new WalCorruptError(path, ds, `entry ${e.index} follows entry ${snap.index + entries.length}: missing entries`);
              }
              entries.length = keep;
              entries.push(e);
            }
            enti = e.index;
            break;
          }
          case RecordType.State:
            hardState = decodeHardStateAt(buf, path, ds, de);
            break;
          case RecordType.Metadata: {
            const md = buf.slice(ds, de);
            if (metadata !== undefined && !bytesEqual(metadata, md)) {
              throw new WalError('wal-metadata-conflict', `wal: metadata in ${path} differs from earlier segments`);
            }
            metadata = md;
            break;
          }
          case RecordType.Snapshot: {
            const s = decodeWalSnapshot(buf, ds, de);
            if (typeof s === 'string') throw new WalCorruptError(path, ds, s);
            if (s.index === snap.index) {
              if (s.term !== snap.term) {
                throw new WalError('wal-snapshot-mismatch', `wal: snapshot marker at index ${s.index} has term ${s.term}, expected ${snap.term}`);
              }
              match = true;
            }
            if (s.index > enti) enti = s.index;
            break;
          }
          default:
            break;
        }
      }
    }
    if (metadata === undefined) throw new WalCorruptError(this.segments[this.startAt]!.path, 0, 'no metadata record');
    if (!match) throw new WalError('wal-snapshot-not-found', `wal: no snapshot marker for index ${snap.index} term ${snap.term}`);

    const tail = this.segments[this.segments.length - 1]!;
    const fh = await open(tail.path, 'r+');
    try {
      if (dirtyTail || repaired !== undefined) {
        // Zero everything after the last good frame so stale bytes are never read as records.
        await fh.truncate(tailEnd);
        await fh.truncate(Math.max(tailLength, this.segmentBytes));
        await fh.sync();
      } else if (tailLength < this.segmentBytes) {
        await fh.truncate(this.segmentBytes);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
    this.dsyncFh = await open(tail.path, DSYNC_FLAGS);
    this.tailOffset = tailEnd;
    this.encoder = new RecordEncoder(crc);
    this.metadata = metadata;
    this.state = hardState;
    this.enti = enti;
    this.ready = true;
    const result: WalReadResult = { metadata, hardState, entries };
    if (repaired !== undefined) result.repaired = repaired;
    return result;
  }

  /**
   * Appends `entries` then `hardState` (skipped when empty). Resolves once written, and fsynced when
   * `mustSync` (raft's MustSync: the term, vote or entries changed). Saves complete in call order;
   * resolving means this and every earlier save are on disk. The entries must not be mutated until
   * it resolves. After a failed write or fsync every later save rejects with 'wal-failed'.
   */
  save(hardState: HardState, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const hasState = !isEmptyHardState(hardState);
    if (!hasState && entries.length === 0 && !mustSync) return this.barrier();
    const b = this.openBatch();
    if (entries.length > 0) b.ops.push(OP_ENTRIES, entries);
    if (hasState) b.ops.push(OP_STATE, { term: hardState.term, vote: hardState.vote, commit: hardState.commit });
    if (mustSync) b.sync = true;
    return b.promise;
  }

  /**
   * Appends a snapshot marker and fsyncs: recovery may later open the log at this snapshot.
   * Call after the snapshot itself is durable.
   */
  saveSnapshot(snap: WalSnapshot): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const b = this.openBatch();
    b.ops.push(OP_SNAPSHOT, { index: snap.index, term: snap.term });
    b.sync = true;
    return b.promise;
  }

  /**
   * Deletes segments no longer needed to read from a snapshot at `index`: every segment before the
   * last one whose first index is below `index` (etcd's ReleaseLockTo, then purge). The tail is
   * never deleted. Resolves to the number of segments deleted.
   */
  async releaseLockTo(index: number): Promise<number> {
    let smaller = this.segments.length - 1;
    for (let i = 0; i < this.segments.length; i++) {
      if (this.segments[i]!.index >= index) {
        smaller = i - 1;
        break;
      }
    }
    if (smaller <= 0) return 0;
    const victims = this.segments.splice(0, smaller);
    this.startAt = Math.max(0, this.startAt - victims.length);
    for (const v of victims) {
      try {
        await unlink(v.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await fsyncDir(this.dir);
    return victims.length;
  }

  /** Paths of the segment files currently in use, oldest first. */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.path);
  }

  /** Waits for queued saves, fsyncs what is unsynced and closes the tail. Later saves reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const last = this.open?.promise ?? this.lastPromise;
    if (last !== undefined) await last.catch(() => undefined);
    const fh = this.fh;
    this.fh = undefined;
    await this.dsyncFh?.close();
    this.dsyncFh = undefined;
    if (fh === undefined) return;
    try {
      if (this.failure === undefined && this.unsynced) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  private refusal(): Error | undefined {
    if (this.failure !== undefined) return new WalError('wal-failed', 'wal: an earlier write failed; the log accepts no more', { cause: this.failure });
    if (this.closed) return new WalError('wal-closed', 'wal: closed');
    if (!this.ready) return new WalError('wal-not-ready', 'wal: call readAll before saving');
    return undefined;
  }

  /** A promise that settles when every save queued so far has. */
  private barrier(): Promise<void> {
    return this.open?.promise ?? this.lastPromise ?? Promise.resolve();
  }

  private openBatch(): Batch {
    if (this.open !== null) return this.open;
    const b = newBatch();
    this.open = b;
    if (!this.flushing) {
      this.flushing = true;
      // Start on a microtask so that saves made in the same tick join this group.
      onMicrotask(() => void this.flushLoop());
    }
    return b;
  }

  private async flushLoop(): Promise<void> {
    while (this.open !== null) {
      const b = this.open;
      this.open = null;
      this.lastPromise = b.promise;
      if (this.failure !== undefined) {
        b.reject(this.refusal()!);
        continue;
      }
      try {
        await this.writeBatch(b);
        b.resolve();
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
        b.reject(this.failure);
      }
    }
    this.flushing = false;
  }

  private async writeBatch(b: Batch): Promise<void> {
    if (this.tailOffset >= this.segmentBytes) await this.cut();
    const enc = this.encoder;
    enc.reset();
    const ops = b.ops;
    for (let i = 0; i < ops.length; i += 2) {
      switch (ops[i]) {
        case OP_ENTRIES: {
          const ents = ops[i + 1] as readonly Entry[];
          for (let k = 0; k < ents.length; k++) enc.appendEntry(ents[k]!);
          this.enti = ents[ents.length - 1]!.index;
          break;
        }
        case OP_STATE:
          this.state = ops[i + 1] as HardState;
          enc.appendHardState(this.state);
          break;
        case OP_SNAPSHOT: {
          const s = ops[i + 1] as WalSnapshot;
          enc.appendSnapshot(s);
          if (s.index > this.enti) this.enti = s.index;
          break;
        }
      }
    }
    const fh = this.fh!;
    if (enc.size > 0 && b.sync && !this.unsynced && this.dsyncFh !== undefined) {
      // Everything before is durable, so a synchronous write makes the whole log durable. It runs
      // on the thread pool like every other write: the event loop never waits for the disk.
      await writeFully(this.dsyncFh, enc.bytes(), this.tailOffset);
      this.tailOffset += enc.size;
      this.stats.writes++;
      this.stats.fsyncs++;
      return;
    }
    if (enc.size > 0) {
      await writeFully(fh, enc.bytes(), this.tailOffset);
      this.tailOffset += enc.size;
      this.stats.writes++;
      this.unsynced = true;
    }
    if (b.sync && this.unsynced) {
      await fh.datasync();
      this.stats.fsyncs++;
      this.unsynced = false;
    }
  }

  /**
   * Closes the full tail and starts the next segment. The old tail is trimmed and fsynced first,
   * so only the last segment can ever end in a torn write; the new one is built under a temporary
   * name and renamed into place once its header is durable.
   */
  private async cut(): Promise<void> {
    const old = this.fh!;
    await old.truncate(this.tailOffset);
    await old.sync();
    this.stats.fsyncs++;
    this.unsynced = false;
    await old.close();
    this.fh = undefined;
    await this.dsyncFh?.close();
    this.dsyncFh = undefined;

    const seq = this.segments[this.segments.length - 1]!.seq + 1;
    const path = join(this.dir, walName(seq, this.enti + 1));
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w+');
    try {
      await fh.truncate(this.segmentBytes);
      const enc = this.encoder;
      enc.reset();
      enc.appendCrc();
      enc.appendMetadata(this.metadata);
      if (!isEmptyHardState(this.state)) enc.appendHardState(this.state);
      await writeFully(fh, enc.bytes(), 0);
      await fh.sync();
      this.stats.fsyncs++;
      await rename(tmp, path);
      await fsyncDir(this.dir);
      this.tailOffset = enc.size;
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
    this.dsyncFh = await open(path, DSYNC_FLAGS);
    this.segments.push({ seq, index: this.enti + 1, path });
    this.stats.cuts++;
  }
}

function decodeEntryAt(buf: Uint8Array, path: string, start: number, end: number): Entry {
  try {
    return decodeEntry(buf, start, end);
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw new WalCorruptError(path, start, `bad entry record: ${err.message}`);
    throw err;
  }
}

function decodeHardStateAt(buf: Uint8Array, path: string, start: number, end: number): HardState {
  try {
    return decodeHardState(buf, start, end);
  } catch (err) {
    if (err instanceof ProtoDecodeError) throw new WalCorruptError(path, start, `bad hard state record: ${err.message}`);
    throw err;
  }
}
