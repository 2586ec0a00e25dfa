import type { Entry } from '../api/raftpb/types.js';
import { EntryType } from '../api/raftpb/types.js';
import { varintLen } from '../pkg/varint.js';

/**
 * The encoded size of an entry in bytes (etcd's Entry.Size()): type, term and index are always
 * encoded, data only when non-empty. Used for maxSizePerMsg and maxCommittedSizePerReady.
 */
export function entrySize(e: Entry): number {
  const len = e.data.length;
  let n = 3 + varintLen(e.type) + varintLen(e.term) + varintLen(e.index);
  if (len > 0) n += 1 + varintLen(len) + len;
  return n;
}

/** The payload size of an entry: its data length. Used for the uncommitted-size and inflight-bytes limits. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

/** The total payload size of `ents`. */
export function payloadsSize(ents: readonly Entry[]): number {
  let s = 0;
  for (let i = 0; i < ents.length; i++) s += ents[i]!.data.length;
  return s;
}

/**
 * The longest prefix of `ents` whose encoded size is at most `maxSize`, but always at least one
 * entry when `ents` is non-empty. Returns `ents` itself when nothing is cut (no copy).
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  const n = ents.length;
  if (n <= 1) return ents;
  let size = entrySize(ents[0]!);
  if (size > maxSize) return ents.slice(0, 1);
  for (let limit = 1; limit < n; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSize) return ents.slice(0, limit);
  }
  return ents;
}

/** Whether an entry changes the membership (ConfChange or ConfChangeV2). */
export function isConfChangeEntry(e: Entry): boolean {
  return e.type === EntryType.EntryConfChange || e.type === EntryType.EntryConfChangeV2;
}

/** How many entries of `ents` change the membership. */
export function numOfPendingConf(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) if (isConfChangeEntry(e)) n++;
  return n;
}
