/**
 * Maintenance.Snapshot's stream: a consistent copy of the backend file sent in chunks, each
 * saying how many bytes remain, followed by one last message holding the SHA-256 of everything
 * sent (etcd appends it so that a restore can check the file).
 */
import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import type { ResponseHeader, SnapshotResponse } from '../api/gen/etcdserverpb.js';

/** etcd's snapshot chunk size. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

/**
 * Streams the file at `path` (a private copy, deleted when the stream ends however it ends). The
 * first message carries `header`, as etcd 3.5 sends it; 3.4 clients ignore it.
 */
export async function* streamSnapshotFile(path: string, header: ResponseHeader): AsyncGenerator<SnapshotResponse> {
  const fh = await open(path, 'r');
  try {
    const total = (await fh.stat()).size;
    const hash = createHash('sha256');
    let sent = 0;
    let first = true;
    while (sent < total) {
      const buf = new Uint8Array(Math.min(SNAPSHOT_CHUNK_BYTES, total - sent));
      let n = 0;
      while (n < buf.length) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, sent + n);
        if (bytesRead === 0) throw new Error(`snapshot copy ${path} shrank while being sent`);
        n += bytesRead;
      }
      sent += n;
      hash.update(buf);
      const msg: SnapshotResponse = { remainingBytes: total - sent, blob: buf };
      if (first) msg.header = header;
      first = false;
      yield msg;
    }
    yield { remainingBytes: 0, blob: new Uint8Array(hash.digest()) };
  } finally {
    await fh.close();
    await unlink(path).catch(() => undefined);
  }
}
