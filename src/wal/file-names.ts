/**
 * Segment and directory naming. A segment is `%016x-%016x.wal`: its sequence number, then the raft
 * index of the first entry expected in it (the last entry index written before it was cut, plus one).
 */
import { open } from 'node:fs/promises';

const SEGMENT_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** The file name of segment `seq` starting at raft index `index`. */
export function walName(seq: number, index: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.wal`;
}

/** Parses a segment file name; undefined for anything else (or numbers beyond 2^53). */
export function parseWalName(name: string): { seq: number; index: number } | undefined {
  const m = SEGMENT_RE.exec(name);
  if (m === null) return undefined;
  const seq = parseInt(m[1]!, 16);
  const index = parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(index)) return undefined;
  return { seq, index };
}

/** Fsyncs a directory so that creates, renames and deletes in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
