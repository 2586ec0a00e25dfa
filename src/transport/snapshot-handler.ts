import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { decodeMessage } from '../api/raftpb/codec.js';
import { MessageType, type Message } from '../api/raftpb/types.js';
import { EtcdError, isEtcdError } from '../pkg/errors.js';
import { PeerHeader, checkHandshake, formatId } from './peer-handshake.js';
import { SNAPSHOT_DIGEST_BYTES } from './snapshot-sender.js';
import type { SnapshotReceiver } from './snapshot-receiver.js';
import type { TransportContext } from './transport-options.js';

/** Name prefix and suffix of incoming snapshot temporary files, so leftovers can be found. */
const TEMP_PREFIX = '.peer-snapshot-';
const TEMP_SUFFIX = '.part';
/** Received body bytes gathered before one file write. */
const WRITE_CHUNK = 1024 * 1024;
const MAX_WRITES_IN_FLIGHT = 4;

/** Deletes temporary files a crash left behind in `dir`; returns how many. */
export async function removeStaleSnapshotTemps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(TEMP_SUFFIX)) continue;
    await unlink(join(dir, name)).catch(() => {});
    n++;
  }
  return n;
}

function answer(res: ServerResponse, status: number, text: string, ctx: TransportContext): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    connection: 'close',
    [PeerHeader.clusterId]: formatId(ctx.identity.clusterId),
  });
  res.end(text);
}

function fail(why: string): never {
  throw new EtcdError('snapshot-malformed', `transport: snapshot upload ${why}`);
}

/**
 * Serves `POST /raft/snapshot`: checks the handshake, streams the body to a temporary file in
 * `dir` while hashing it, verifies the length and SHA-256 trailer, fsyncs, then hands the file to
 * `snapshots` and the MsgSnap to raft, and answers 204. On any failure the partial file is
 * deleted and the sender gets an error status. Resolves to whether the snapshot was taken.
 */
export async function handleSnapshotUpload(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: TransportContext,
  snapshots: SnapshotReceiver,
  dir: string,
): Promise<boolean> {
  const verdict = checkHandshake(req.headers, ctx.identity, (id) => ctx.raft.isIdRemoved(id));
  if (!verdict.ok) {
    ctx.logger.warn('refused snapshot from remote peer', {
      'local-member-id': formatId(ctx.identity.memberId),
      'local-member-cluster-id': formatId(ctx.identity.clusterId),
      'remote-peer-id': verdict.from === undefined ? '' : formatId(verdict.from),
      'remote-peer-cluster-id': verdict.remoteClusterId === undefined ? '' : formatId(verdict.remoteClusterId),
      reason: verdict.reason,
    });
    answer(res, verdict.status, verdict.reason, ctx);
    return false;
  }
  const from = verdict.from;
  const sizeText = req.headers[PeerHeader.snapshotSize];
  const size = typeof sizeText === 'string' && /^\d{1,15}$/.test(sizeText) ? Number(sizeText) : -1;
  if (size < 0) {
    answer(res, 400, 'missing or malformed snapshot size', ctx);
    return false;
  }
  req.setTimeout(ctx.config.snapshotIdleTimeoutMs, () => {
    req.destroy(new EtcdError('snapshot-timeout', `transport: snapshot download idle for ${ctx.config.snapshotIdleTimeoutMs} ms`));
  });
  const path = join(dir, `${TEMP_PREFIX}${formatId(from)}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let fh: FileHandle | undefined;
  let handedOver = false;
  try {
    fh = await open(path, 'wx', 0o600);
    const message = await receiveBody(req, fh, size, ctx, from);
    // The body is in: the server's install may take a while, which is not idleness.
    req.setTimeout(0);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await snapshots.receiveSnapshot({ from, message, path, size });
    handedOver = true;
    ctx.raft.process(message);
    ctx.logger.info('received and saved database snapshot', {
      'remote-peer-id': formatId(from),
      'snapshot-index': message.snapshot?.metadata.index ?? 0,
      'snapshot-size': size,
    });
    answer(res, 204, '', ctx);
    return true;
  } catch (err) {
    await fh?.close().catch(() => {});
    if (!handedOver) await unlink(path).catch(() => {});
    ctx.logger.warn('failed to receive snapshot from remote peer', { 'remote-peer-id': formatId(from), error: err });
    answer(res, isEtcdError(err, 'snapshot-malformed') || isEtcdError(err, 'proto-decode') ? 400 : 500, (err as Error).message, ctx);
    return false;
  }
}

/**
 * Writes a snapshot body to a file in ~1 MiB positional writes with a few in flight, so the disk
 * works while the socket is read. A failed write surfaces on the next `add` or on `finish`.
 */
class PipelinedFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private filePos = 0;
  private readonly inflight: Promise<void>[] = [];
  private error: unknown;

  constructor(private readonly fh: FileHandle) {}

  /** Queues `part` (kept by reference: the caller must not reuse it). */
  async add(part: Buffer): Promise<void> {
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (this.pendingBytes >= WRITE_CHUNK) await this.startWrite();
  }

  /** Writes what is left and waits for every write; throws the first write error. */
  async finish(): Promise<void> {
    if (this.pendingBytes > 0) await this.startWrite();
    await this.settle();
    if (this.error !== undefined) throw this.error;
  }

  /** Waits for the writes in flight (errors are kept, not thrown): call before closing the file. */
  async settle(): Promise<void> {
    await Promise.all(this.inflight);
  }

  private async startWrite(): Promise<void> {
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const at = this.filePos;
    this.filePos += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.inflight.push(writeAll(this.fh, buf, at).catch((err: unknown) => void (this.error ??= err)));
    if (this.inflight.length >= MAX_WRITES_IN_FLIGHT) await this.inflight.shift();
    if (this.error !== undefined) throw this.error;
  }
}

/** Writes `buf` at file position `at`, looping over short writes. */
async function writeAll(fh: FileHandle, buf: Buffer, at: number): Promise<void> {
  while (buf.length > 0) {
    const { bytesWritten } = await fh.write(buf, 0, buf.length, at);
    buf = buf.subarray(bytesWritten);
    at += bytesWritten;
  }
}

/** Reads `[u32 len][MsgSnap][size body bytes][sha256]`, writing the body to `fh`; returns the message. */
async function receiveBody(req: IncomingMessage, fh: FileHandle, size: number, ctx: TransportContext, from: bigint): Promise<Message> {
  const writer = new PipelinedFileWriter(fh);
  try {
    const head = Buffer.alloc(4);
    let headFill = 0;
    let msgBuf: Buffer | undefined;
    let msgFill = 0;
    let message: Message | undefined;
    let bodyLeft = size;
    const trailer = Buffer.alloc(SNAPSHOT_DIGEST_BYTES);
    let trailerFill = 0;
    const hash = createHash('sha256');
    for await (const chunk of req as AsyncIterable<Buffer>) {
      let pos = 0;
      while (pos < chunk.length) {
        if (headFill < 4) {
          while (headFill < 4 && pos < chunk.length) head[headFill++] = chunk[pos++]!;
          if (headFill === 4) {
            const len = head.readUInt32BE(0);
            if (len === 0 || len > ctx.config.maxFrameBytes) fail(`message length ${len} is out of range`);
            msgBuf = Buffer.allocUnsafe(len);
          }
        } else if (message === undefined) {
          const take = Math.min(msgBuf!.length - msgFill, chunk.length - pos);
          chunk.copy(msgBuf!, msgFill, pos, pos + take);
          msgFill += take;
          pos += take;
          if (msgFill === msgBuf!.length) message = checkMessage(decodeMessage(msgBuf!), ctx, from);
        } else if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, chunk.length - pos);
          const part = chunk.subarray(pos, pos + take);
          hash.update(part);
          bodyLeft -= take;
          pos += take;
          await writer.add(part);
        } else if (trailerFill < SNAPSHOT_DIGEST_BYTES) {
          const take = Math.min(SNAPSHOT_DIGEST_BYTES - trailerFill, chunk.length - pos);
          chunk.copy(trailer, trailerFill, pos, pos + take);
          trailerFill += take;
          pos += take;
        } else {
          fail('carries more bytes than announced');
        }
      }
    }
    if (message === undefined || bodyLeft > 0 || trailerFill < SNAPSHOT_DIGEST_BYTES) fail('ended early');
    await writer.finish();
    if (!hash.digest().equals(trailer)) fail('failed its SHA-256 check');
    return message;
  } finally {
    await writer.settle();
  }
}

function checkMessage(m: Message, ctx: TransportContext, from: bigint): Message {
  if (m.type !== MessageType.MsgSnap || m.snapshot === undefined) fail(`carries a ${MessageType[m.type]} instead of a MsgSnap`);
  if (m.to !== ctx.identity.memberId || m.from !== from) fail('carries a message addressed from or to another member');
  return m;
}
