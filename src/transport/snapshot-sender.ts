import { createHash } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { encodeMessage } from '../api/raftpb/codec.js';
import type { Message } from '../api/raftpb/types.js';
import { EtcdError } from '../pkg/errors.js';
import { PeerHeader, RAFT_SNAPSHOT_PATH, handshakeHeaders } from './peer-handshake.js';
import { httpModuleFor, parsePeerUrl } from './peer-url.js';
import type { TransportContext } from './transport-options.js';

/** Bytes of the SHA-256 trailer that ends a snapshot upload. */
export const SNAPSHOT_DIGEST_BYTES = 32;

/** Callbacks of one snapshot send. */
export interface SnapshotSendCallbacks {
  /** After each chunk of the body is handed to the socket: bytes sent so far, of `size`. */
  onProgress?(sentBytes: number, size: number): void;
  /** Once, when the peer has installed the snapshot (ok) or the send failed (with why). */
  onDone?(ok: boolean, error?: Error): void;
}

/** One upload: where to, what, and how to stop it early. */
export interface SnapshotUpload {
  url: string;
  message: Message;
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable;
  /** Exact bytes the body yields. */
  size: number;
  onProgress: ((sentBytes: number, size: number) => void) | undefined;
  /** Aborts the upload (transport closing, peer removed). */
  signal: AbortSignal;
}

function waitDrainOrClose(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/**
 * Streams a snapshot to a peer's `POST /raft/snapshot`: length-prefixed MsgSnap, the body with
 * backpressure (never more than the socket buffer in memory), then the body's SHA-256. Resolves
 * when the peer answers 204 (it fsynced the file, its server took it over and raft got the
 * message); throws on any failure (refusal, size mismatch, broken connection, idle timeout).
 */
export async function uploadSnapshot(ctx: TransportContext, u: SnapshotUpload): Promise<void> {
  const addr = parsePeerUrl(u.url);
  const msgBytes = encodeMessage(u.message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(msgBytes.length, 0);
  const req = httpModuleFor(addr).request({
    ...(addr.secure ? ctx.config.clientTls : {}),
    host: addr.host,
    port: addr.port,
    method: 'POST',
    path: RAFT_SNAPSHOT_PATH,
    agent: false,
    headers: {
      ...handshakeHeaders(ctx.identity, u.message.to),
      'content-type': 'application/octet-stream',
      'content-length': String(4 + msgBytes.length + u.size + SNAPSHOT_DIGEST_BYTES),
      [PeerHeader.snapshotSize]: String(u.size),
    },
  });
  let failure: Error | undefined;
  const answered = new Promise<void>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        if (text.length < 512) text += s;
      });
      res.on('end', () => {
        if (res.statusCode === 204) resolve();
        else reject(new EtcdError('snapshot-refused', `transport: peer answered the snapshot with ${res.statusCode}: ${text.trim()}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  answered.catch((err: Error) => {
    failure ??= err;
  });
  const onAbort = (): void => {
    req.destroy(new EtcdError('snapshot-aborted', 'transport: snapshot send aborted'));
  };
  u.signal.addEventListener('abort', onAbort);
  req.setTimeout(ctx.config.snapshotIdleTimeoutMs, () => {
    req.destroy(new EtcdError('snapshot-timeout', `transport: snapshot upload idle for ${ctx.config.snapshotIdleTimeoutMs} ms`));
  });
  try {
    if (u.signal.aborted) onAbort();
    const hash = createHash('sha256');
    req.write(head);
    req.write(msgBytes);
    let sent = 0;
    for await (const chunk of u.body as AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
      if (failure !== undefined) throw failure;
      sent += chunk.length;
      if (sent > u.size) throw new EtcdError('snapshot-size', `transport: snapshot body is longer than the ${u.size} bytes announced`);
      hash.update(chunk);
      if (!req.write(chunk)) await waitDrainOrClose(req);
      u.onProgress?.(sent, u.size);
    }
    if (failure !== undefined) throw failure;
    if (sent !== u.size) throw new EtcdError('snapshot-size', `transport: snapshot body ended after ${sent} of the ${u.size} bytes announced`);
    req.end(hash.digest());
    await answered;
  } catch (err) {
    req.destroy();
    throw failure ?? err;
  } finally {
    u.signal.removeEventListener('abort', onAbort);
  }
}
