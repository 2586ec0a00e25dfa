/**
 * Raft snapshots between members carry the backend itself (etcd's snapshot merging): the leader
 * streams a consistent copy of its backend file with each MsgSnap, and the follower moves the
 * received file into the snap dir as `<index in 16 hex digits>.snap.db` until raft hands it the
 * snapshot to install.
 */
import { createReadStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message } from '../api/raftpb/types.js';
import type { IncomingSnapshot } from './peer-receiver.js';
import type { ClusterTransport } from './peer-sender.js';

/** Where a received backend for the snapshot at `index` waits to be installed. */
export function receivedSnapshotPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, '0')}.snap.db`);
}

/**
 * Streams the backend copy at `copyPath` with `msg` to its target and deletes the copy after.
 * The transport reports the outcome to raft. Resolves to whether it was installed.
 */
export async function sendBackendSnapshot(transport: ClusterTransport, msg: Message, copyPath: string): Promise<boolean> {
  try {
    const { size } = await stat(copyPath);
    return await transport.sendSnapshot(msg, createReadStream(copyPath, { highWaterMark: 1 << 20 }), size);
  } finally {
    await unlink(copyPath).catch(() => undefined);
  }
}

/** Moves a received backend file into the snap dir, named for its snapshot index (atomic: same directory). */
export async function installReceivedSnapshot(snapDir: string, s: IncomingSnapshot): Promise<string> {
  const index = s.message.snapshot?.metadata.index ?? 0;
  if (index === 0) throw new Error(`snapshot from ${s.from.toString(16)} without metadata`);
  const dest = receivedSnapshotPath(snapDir, index);
  await rename(s.path, dest);
  return dest;
}
