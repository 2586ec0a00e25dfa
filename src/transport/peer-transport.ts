import { mkdir } from 'node:fs/promises';
import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Message } from '../api/raftpb/types.js';
import { EtcdError } from '../pkg/errors.js';
import { InboundStream, type InboundCounters } from './inbound-stream.js';
import { LogLimiter } from './log-limiter.js';
import { Peer, type PeerCounters } from './peer.js';
import { PeerHeader, RAFT_PROBE_PATH, RAFT_SNAPSHOT_PATH, RAFT_STREAM_PATH, UPGRADE_TOKEN, checkHandshake, formatId } from './peer-handshake.js';
import { formatPeerUrl, httpModuleFor, parsePeerUrl } from './peer-url.js';
import { handleSnapshotUpload, removeStaleSnapshotTemps } from './snapshot-handler.js';
import { uploadSnapshot, type SnapshotSendCallbacks } from './snapshot-sender.js';
import { resolveConfig, type PeerTransportOptions, type TransportContext } from './transport-options.js';

/** One remote member as the transport sees it. */
export interface PeerStats extends PeerCounters {
  id: bigint;
  urls: readonly string[];
  /** When the outbound stream became active (ms), or undefined while it is not. */
  activeSince: number | undefined;
  queuedMessages: number;
  queuedBytes: number;
  lastError: string | undefined;
}

/** Counters of the whole transport. */
export interface TransportStats {
  peers: PeerStats[];
  /** Per sender, over all its streams; `open` while a stream from it is up. */
  inbound: (InboundCounters & { from: bigint; open: boolean })[];
  /** Streams and snapshots refused at the handshake (other cluster, removed member, bad header). */
  refused: number;
  snapshotsSent: number;
  snapshotsSendFailed: number;
  snapshotsReceived: number;
  snapshotsReceiveFailed: number;
  /** Snapshot uploads being received right now. */
  snapshotsReceiving: number;
}

type PeerServer = http.Server | https.Server;

/**
 * The peer transport of one member: serves the peer port (raft streams in, snapshots in, probes,
 * and the server's other peer paths through `handler`) and keeps one outbound raft stream to each
 * known peer. `send` only queues; each loop turn's messages to a peer leave as one batch in one
 * socket write. Failures come back through the RaftReceiver (reportUnreachable, reportSnapshot),
 * never as exceptions or promises on the send path.
 */
export class PeerTransport {
  private readonly ctx: TransportContext;
  private readonly peers = new Map<bigint, Peer>();
  /** The peer of the last message sent: consecutive messages mostly go to the same one. */
  private lastPeer: Peer | undefined;
  private dirtyPeers: Peer[] = [];
  private spareDirty: Peer[] = [];
  private flushScheduled = false;
  private readonly inbound = new Map<bigint, InboundStream>();
  private readonly inboundCounters = new Map<bigint, InboundCounters>();
  private readonly servers: PeerServer[] = [];
  private readonly bound: string[] = [];
  /** Snapshot uploads in flight, by target, so removing a peer or closing aborts them. */
  private readonly uploads = new Map<AbortController, bigint>();
  private readonly downloads = new Set<Promise<boolean>>();
  private probeAgents: { http?: http.Agent; https?: https.Agent } = {};
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  private refused = 0;
  private snapshotsSent = 0;
  private snapshotsSendFailed = 0;
  private snapshotsReceived = 0;
  private snapshotsReceiveFailed = 0;

  constructor(private readonly options: PeerTransportOptions) {
    const now = options.now ?? Date.now;
    this.ctx = {
      identity: { memberId: options.memberId, clusterId: options.clusterId },
      logger: options.logger,
      raft: options.raft,
      config: resolveConfig(options),
      limiter: new LogLimiter(options.logIntervalMs ?? 5000, now),
      now,
      rand: options.rand ?? Math.random,
    };
  }

  /**
   * Listens on each peer URL (`http://host:port`, or `https://` with `tls.server`; port 0 picks
   * a free port, see `listenUrls`). Deletes snapshot temporary files a crash left behind.
   */
  async start(listenUrls: readonly string[]): Promise<void> {
    if (this.closed) throw new EtcdError('transport-closed', 'transport: start after close');
    const dir = this.options.snapshotDir;
    await mkdir(dir, { recursive: true });
    const stale = await removeStaleSnapshotTemps(dir);
    if (stale > 0) this.ctx.logger.info('removed partial incoming snapshot files', { dir, count: stale });
    for (const url of listenUrls) {
      const addr = parsePeerUrl(url);
      const server: PeerServer = addr.secure ? https.createServer(this.options.tls?.server ?? {}) : http.createServer();
      // A snapshot upload may take long: its own idle timeout applies instead of Node's 5-minute limit.
      server.requestTimeout = 0;
      server.on('request', this.onRequest);
      server.on('upgrade', this.onUpgrade);
      server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: addr.host, port: addr.port }, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch(async (err: unknown) => {
        await this.close();
        throw err;
      });
      server.on('error', (err: Error) => this.ctx.logger.error('peer listener failed', { url, error: err }));
      this.servers.push(server);
      this.bound.push(formatPeerUrl(addr.secure, addr.host, (server.address() as AddressInfo).port));
      this.ctx.logger.info('listening for peers', { address: this.bound[this.bound.length - 1] });
    }
    this.startTicker();
  }

  /** The URLs actually listened on (free ports resolved), in `start` order. */
  listenUrls(): string[] {
    return [...this.bound];
  }

  /** Starts streaming to member `id` at `urls` (first URL first; the next on each failed dial). An existing peer's URLs are updated. */
  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.closed) return;
    if (id === this.ctx.identity.memberId) return;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.updateUrls(urls);
      return;
    }
    const peer = new Peer(id, urls, this.ctx);
    this.peers.set(id, peer);
    this.startTicker();
    peer.start();
    this.ctx.logger.info('added remote peer', { 'local-member-id': formatId(this.ctx.identity.memberId), 'remote-peer-id': formatId(id), 'remote-peer-urls': urls });
  }

  /** Changes the URLs of member `id` (a stream to a URL no longer listed is reopened). */
  updatePeer(id: bigint, urls: readonly string[]): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.updateUrls(urls);
    this.ctx.logger.info('updated remote peer', { 'remote-peer-id': formatId(id), 'remote-peer-urls': urls });
  }

  /** Forgets member `id`: closes its streams both ways, drops its queue, aborts snapshots to it. */
  removePeer(id: bigint): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.stop();
    this.peers.delete(id);
    if (this.lastPeer === peer) this.lastPeer = undefined;
    this.inbound.get(id)?.socket.destroy();
    for (const [ac, to] of this.uploads) if (to === id) ac.abort();
    this.ctx.limiter.forget(`dial ${id}`);
    this.ctx.logger.info('removed remote peer', { 'local-member-id': formatId(this.ctx.identity.memberId), 'remote-peer-id': formatId(id) });
  }

  /** Whether member `id` is a known peer. */
  hasPeer(id: bigint): boolean {
    return this.peers.has(id);
  }

  /**
   * Queues messages for their `to` members and returns at once. Messages to one member leave in
   * order; those queued in one loop turn go out in one write. A full queue drops the message and
   * reports the peer unreachable in a later turn; a message to an unknown member is dropped.
   */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      let peer = this.lastPeer;
      if (peer === undefined || peer.id !== m.to) {
        peer = this.peers.get(m.to);
        if (peer === undefined) {
          if (this.ctx.logger.enabled('debug') && this.ctx.limiter.allow(`unknown ${m.to}`) >= 0) {
            this.ctx.logger.debug('ignored message send request; unknown remote peer target', { 'unknown-target-peer-id': formatId(m.to) });
          }
          continue;
        }
        this.lastPeer = peer;
      }
      peer.enqueue(m);
      if (!peer.dirty) {
        peer.dirty = true;
        this.dirtyPeers.push(peer);
      }
    }
    if (!this.flushScheduled && this.dirtyPeers.length > 0) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  /**
   * Streams a snapshot to `msg.to`: the MsgSnap, then `size` bytes of `body` (the backend file),
   * with backpressure. Reports the outcome to raft (reportSnapshot, and reportUnreachable on
   * failure) and to `callbacks.onDone`; the promise resolves to the same outcome and never
   * rejects. The peer answers only after it fsynced the file and its server took it over.
   * Large chunks stream fastest: pass e.g. `createReadStream(path, { highWaterMark: 1 << 20 })`.
   */
  async sendSnapshot(msg: Message, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable, size: number, callbacks: SnapshotSendCallbacks = {}): Promise<boolean> {
    // Never report back inside the caller's own call.
    await Promise.resolve();
    const peer = this.peers.get(msg.to);
    const started = this.ctx.now();
    let error: Error | undefined;
    if (this.closed || peer === undefined) {
      error = new EtcdError('unknown-peer', `transport: no peer ${formatId(msg.to)} to send a snapshot to`);
      if (typeof (body as Readable).destroy === 'function') (body as Readable).destroy();
    } else {
      const ac = new AbortController();
      this.uploads.set(ac, msg.to);
      try {
        await uploadSnapshot(this.ctx, { url: peer.targetUrl, message: msg, body, size, onProgress: callbacks.onProgress, signal: ac.signal });
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.uploads.delete(ac);
      }
    }
    const ok = error === undefined;
    if (this.closed) {
      callbacks.onDone?.(false, error ?? new EtcdError('transport-closed', 'transport: closed'));
      return false;
    }
    const fields = { 'remote-peer-id': formatId(msg.to), 'snapshot-index': msg.snapshot?.metadata.index ?? 0, 'snapshot-size': size, 'took-ms': this.ctx.now() - started };
    if (ok) {
      this.snapshotsSent++;
      this.ctx.logger.info('sent database snapshot to remote peer', fields);
    } else {
      this.snapshotsSendFailed++;
      this.ctx.logger.warn('failed to send database snapshot to remote peer', { ...fields, error });
      this.ctx.raft.reportUnreachable(msg.to);
    }
    this.ctx.raft.reportSnapshot(msg.to, ok);
    callbacks.onDone?.(ok, error);
    return ok;
  }

  /** When the stream to member `id` became active (ms), or undefined if it is not active. */
  activeSince(id: bigint): number | undefined {
    return this.peers.get(id)?.activeSince;
  }

  /** Round-trip time to member `id` in ms, over a kept-alive connection to its probe path; rejects on failure. */
  async probe(id: bigint): Promise<number> {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new EtcdError('unknown-peer', `transport: no peer ${formatId(id)} to probe`);
    const addr = parsePeerUrl(peer.targetUrl);
    const agent = addr.secure
      ? (this.probeAgents.https ??= new https.Agent({ keepAlive: true, maxSockets: 1, ...this.ctx.config.clientTls }))
      : (this.probeAgents.http ??= new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = httpModuleFor(addr).get({ host: addr.host, port: addr.port, path: RAFT_PROBE_PATH, agent, timeout: this.ctx.config.dialTimeoutMs }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new EtcdError('probe-failed', `transport: probe answered ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new EtcdError('probe-failed', 'transport: probe timed out')));
      req.on('error', reject);
    });
    return performance.now() - t0;
  }

  /** A snapshot of the counters. */
  get stats(): TransportStats {
    const peers: PeerStats[] = [];
    for (const p of this.peers.values()) {
      const q = p.queued;
      peers.push({ id: p.id, urls: p.peerUrls, activeSince: p.activeSince, queuedMessages: q.messages, queuedBytes: q.bytes, lastError: p.lastError, ...p.counters });
    }
    const inbound = [...this.inboundCounters].map(([from, c]) => ({ from, open: this.inbound.has(from), ...c }));
    return {
      peers,
      inbound,
      refused: this.refused,
      snapshotsSent: this.snapshotsSent,
      snapshotsSendFailed: this.snapshotsSendFailed,
      snapshotsReceived: this.snapshotsReceived,
      snapshotsReceiveFailed: this.snapshotsReceiveFailed,
      snapshotsReceiving: this.downloads.size,
    };
  }

  /** Stops everything: outbound streams, inbound streams, snapshot transfers, listeners. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    for (const p of this.peers.values()) p.stop();
    this.peers.clear();
    this.lastPeer = undefined;
    for (const ac of this.uploads.keys()) ac.abort();
    for (const s of this.inbound.values()) s.socket.destroy();
    this.probeAgents.http?.destroy();
    this.probeAgents.https?.destroy();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    await Promise.all([...this.downloads]);
  }

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    const list = this.dirtyPeers;
    this.dirtyPeers = this.spareDirty;
    for (let i = 0; i < list.length; i++) list[i]!.flushTurn();
    list.length = 0;
    this.spareDirty = list;
  };

  private startTicker(): void {
    if (this.ticker !== undefined || this.closed) return;
    const c = this.ctx.config;
    const every = Math.max(10, Math.min(c.keepaliveIntervalMs, c.readTimeoutMs) / 2);
    this.ticker = setInterval(() => {
      const now = this.ctx.now();
      for (const p of this.peers.values()) p.tick(now);
      for (const s of this.inbound.values()) s.tick(now);
    }, every);
    this.ticker.unref();
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === RAFT_SNAPSHOT_PATH && req.method === 'POST') {
      const done = handleSnapshotUpload(req, res, this.ctx, this.options.snapshots, this.options.snapshotDir).then((ok) => {
        if (ok) this.snapshotsReceived++;
        else this.snapshotsReceiveFailed++;
        return ok;
      });
      this.downloads.add(done);
      void done.finally(() => this.downloads.delete(done));
      return;
    }
    if (path === RAFT_PROBE_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json', [PeerHeader.clusterId]: formatId(this.ctx.identity.clusterId) });
      res.end('{"health":"true"}');
      return;
    }
    if (path === RAFT_STREAM_PATH) {
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: UPGRADE_TOKEN });
      res.end(`the raft stream needs Upgrade: ${UPGRADE_TOKEN}`);
      return;
    }
    if (this.options.handler !== undefined) {
      this.options.handler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', () => {});
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== RAFT_STREAM_PATH || req.headers.upgrade?.toLowerCase() !== UPGRADE_TOKEN) {
      this.refuse(socket, 400, 'unknown upgrade');
      return;
    }
    if (this.closed) {
      this.refuse(socket, 503, 'transport closing');
      return;
    }
    const v = checkHandshake(req.headers, this.ctx.identity, (id) => this.ctx.raft.isIdRemoved(id));
    if (!v.ok) {
      this.refused++;
      const remote = v.from === undefined ? '' : formatId(v.from);
      if (this.ctx.limiter.allow(`refuse ${v.status} ${remote}`) >= 0) {
        const msg = v.status === 412 ? 'request cluster ID mismatch' : v.status === 410 ? 'rejected stream from remote peer because it was removed' : 'rejected stream from remote peer';
        this.ctx.logger.warn(msg, {
          'local-member-id': formatId(this.ctx.identity.memberId),
          'local-member-cluster-id': formatId(this.ctx.identity.clusterId),
          'remote-peer-id': remote,
          'remote-peer-cluster-id': v.remoteClusterId === undefined ? '' : formatId(v.remoteClusterId),
          reason: v.reason,
        });
      }
      this.refuse(socket, v.status, v.reason);
      return;
    }
    const local = this.ctx.identity;
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE_TOKEN}\r\n` +
        `${PeerHeader.clusterId}: ${formatId(local.clusterId)}\r\n${PeerHeader.from}: ${formatId(local.memberId)}\r\n\r\n`,
    );
    // The sender keeps one stream to us: a new one means the old one is dead (half-open).
    this.inbound.get(v.from)?.socket.destroy();
    let counters = this.inboundCounters.get(v.from);
    if (counters === undefined) {
      counters = { receivedMessages: 0, receivedBytes: 0 };
      this.inboundCounters.set(v.from, counters);
    }
    const stream = new InboundStream(v.from, socket, this.ctx, counters, (s) => {
      if (this.inbound.get(s.from) === s) this.inbound.delete(s.from);
    });
    this.inbound.set(v.from, stream);
    stream.start(head);
  };

  private refuse(socket: Socket, status: number, reason: string): void {
    const body = Buffer.from(reason, 'utf8');
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
        `Connection: close\r\n${PeerHeader.clusterId}: ${formatId(this.ctx.identity.clusterId)}\r\n\r\n${reason}`,
    );
  }
}
