import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { MessageType, type Message } from '../api/raftpb/types.js';
import { Backoff } from './backoff.js';
import { FrameEncoder } from './frame-encoder.js';
import { MessageQueue, estimateMessageSize } from './message-queue.js';
import { KEEPALIVE_FRAME, PeerHeader, RAFT_STREAM_PATH, UPGRADE_TOKEN, formatId, handshakeHeaders, parseId } from './peer-handshake.js';
import { httpModuleFor, parsePeerUrl } from './peer-url.js';
import type { TransportContext } from './transport-options.js';

/**
 * Stream states: dialing (connect + handshake in flight), open (frames flow), waiting (backoff
 * before the next dial), stopped (peer removed or transport closed; final).
 */
type StreamState = 'dialing' | 'open' | 'waiting' | 'stopped';

/** Counters of one peer's outbound side. */
export interface PeerCounters {
  sentMessages: number;
  sentBytes: number;
  /** Socket writes (each carries one batch of frames). */
  sentBatches: number;
  /** Messages dropped: queue full, unencodable, or queued when a dial failed. */
  droppedMessages: number;
  dialFailures: number;
  /** Streams established. */
  connects: number;
}

/**
 * The outbound side of one remote member: a bounded queue and the one long-lived raft stream
 * this member dials to it. Messages queued during a loop turn are encoded into one buffer and
 * leave in one socket write; the stream redials with backoff when it breaks. Ordering: messages
 * to this peer leave in the order queued.
 */
export class Peer {
  private urls: readonly string[];
  /** Index (modulo urls.length) of the URL to dial next; advanced when a dial fails. */
  private urlIndex = 0;
  private currentUrl = '';
  private state: StreamState = 'waiting';
  /** Bumped on every dial and stop, so callbacks of an older dial or socket do nothing. */
  private gen = 0;
  private request: ClientRequest | undefined;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly queue: MessageQueue;
  private readonly encoder: FrameEncoder;
  /** Buffers and MsgSnap counts of the writes in flight on the current socket, oldest first. */
  private inflightBufs: Buffer[] = [];
  private inflightSnaps: number[] = [];
  private onWritten: (err?: Error | null) => void = () => {};
  private waitingDrain = false;
  private lastRead = 0;
  private lastWrite = 0;
  /** Drops since the last flush turn, reported then (never inside send). */
  private overflowed = 0;
  private failedSnaps = 0;
  /** Set by the transport while this peer waits for the flush turn. */
  dirty = false;
  /** When the stream became active (ms), or undefined while it is not. */
  activeSince: number | undefined;
  lastError: string | undefined;
  readonly counters: PeerCounters = { sentMessages: 0, sentBytes: 0, sentBatches: 0, droppedMessages: 0, dialFailures: 0, connects: 0 };

  constructor(
    readonly id: bigint,
    urls: readonly string[],
    private readonly ctx: TransportContext,
  ) {
    this.urls = [...urls];
    const c = ctx.config;
    this.backoff = new Backoff(c.backoffInitialMs, c.backoffMaxMs, ctx.rand);
    this.queue = new MessageQueue(c.queueCapacity, c.queueMaxBytes);
    this.encoder = new FrameEncoder(c.maxBatchBytes, (err) => {
      this.counters.droppedMessages++;
      ctx.logger.error('dropped a raft message that cannot be encoded', { 'remote-peer-id': formatId(id), error: err });
    });
  }

  /** The URLs this peer is dialed at. */
  get peerUrls(): readonly string[] {
    return this.urls;
  }

  /** The URL of the current or last stream, where snapshots and probes go too. */
  get targetUrl(): string {
    return this.currentUrl !== '' && this.urls.includes(this.currentUrl) ? this.currentUrl : (this.urls[0] ?? '');
  }

  /** Messages waiting and their estimated bytes. */
  get queued(): { messages: number; bytes: number } {
    return { messages: this.queue.length, bytes: this.queue.bytes };
  }

  /** Dials the peer (at once). */
  start(): void {
    if (this.state === 'waiting' && this.timer === undefined) this.dial();
  }

  /**
   * Queues `m` for the next flush turn. Returns false when the queue is full: the message is
   * dropped and the drop reported to raft in the flush turn (raft retransmits).
   */
  enqueue(m: Message): boolean {
    if (this.state === 'stopped') return false;
    if (this.queue.push(m, estimateMessageSize(m))) return true;
    this.counters.droppedMessages++;
    this.overflowed++;
    if (m.type === MessageType.MsgSnap) this.failedSnaps++;
    return false;
  }

  /** The flush turn: reports drops since the last turn, then writes what the stream can take. */
  flushTurn(): void {
    this.dirty = false;
    if (this.state === 'stopped') return;
    if (this.overflowed > 0) {
      const held = this.ctx.limiter.allow(`overflow ${this.id}`);
      if (held >= 0) {
        this.ctx.logger.warn('dropped internal raft message since sending buffer is full (overloaded network)', {
          'remote-peer-id': formatId(this.id),
          'remote-peer-active': this.activeSince !== undefined,
          dropped: this.overflowed,
          'suppressed-logs': held,
        });
      }
      this.overflowed = 0;
      this.ctx.raft.reportUnreachable(this.id);
    }
    for (; this.failedSnaps > 0; this.failedSnaps--) this.ctx.raft.reportSnapshot(this.id, false);
    this.flush();
  }

  /** Replaces the peer's URLs; a stream to a URL no longer listed is reopened. */
  updateUrls(urls: readonly string[]): void {
    const same = urls.length === this.urls.length && urls.every((u) => this.urls.includes(u));
    this.urls = [...urls];
    this.urlIndex = 0;
    if (same || this.urls.includes(this.currentUrl)) return;
    if (this.state === 'open') {
      this.lastError = 'peer URLs changed';
      this.socket?.destroy();
    } else if (this.state === 'dialing') {
      this.request?.destroy(new Error('peer URLs changed'));
    }
  }

  /** Stops for good: closes the stream, cancels any dial, drops the queue. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.gen++;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.request?.destroy();
    this.request = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.queue.clear();
    this.activeSince = undefined;
  }

  /** Periodic check: a keepalive on an idle stream; a silent stream is taken for dead and closed. */
  tick(now: number): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined) return;
    if (now - this.lastRead > this.ctx.config.readTimeoutMs) {
      this.lastError = `no data from the peer for ${this.ctx.config.readTimeoutMs} ms`;
      socket.destroy();
      return;
    }
    if (now - this.lastWrite >= this.ctx.config.keepaliveIntervalMs && socket.writableLength === 0) {
      socket.write(KEEPALIVE_FRAME);
      this.lastWrite = now;
    }
  }

  private flush(): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined || this.waitingDrain || this.queue.length === 0) return;
    const highWater = this.ctx.config.socketHighWater;
    const c = this.counters;
    while (this.queue.length > 0) {
      // Backpressure: leave the rest queued (bounded) until the socket drains.
      if (socket.writableLength >= highWater) {
        this.waitingDrain = true;
        break;
      }
      const batch = this.encoder.encode(this.queue);
      if (batch === undefined) break;
      c.sentMessages += batch.messages;
      c.sentBytes += batch.length;
      c.sentBatches++;
      this.inflightBufs.push(batch.buf);
      this.inflightSnaps.push(batch.snapshots);
      socket.write(batch.buf.subarray(0, batch.length), this.onWritten);
    }
    this.lastWrite = this.ctx.now();
  }

  private dial(): void {
    this.timer = undefined;
    if (this.state === 'stopped') return;
    const gen = ++this.gen;
    this.state = 'dialing';
    const url = this.urls[this.urlIndex % this.urls.length];
    this.currentUrl = url ?? '';
    if (url === undefined) {
      this.dialFailed(gen, 'peer has no URLs', 0);
      return;
    }
    let addr;
    try {
      addr = parsePeerUrl(url);
    } catch (err) {
      this.dialFailed(gen, (err as Error).message, 0);
      return;
    }
    const req = httpModuleFor(addr).request({
      ...(addr.secure ? this.ctx.config.clientTls : {}),
      host: addr.host,
      port: addr.port,
      method: 'GET',
      path: RAFT_STREAM_PATH,
      agent: false,
      timeout: this.ctx.config.dialTimeoutMs,
      headers: { connection: 'Upgrade', upgrade: UPGRADE_TOKEN, ...handshakeHeaders(this.ctx.identity, this.id) },
    });
    this.request = req;
    req.on('upgrade', (res: IncomingMessage, socket: Socket) => this.onUpgrade(gen, res, socket));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        if (body.length < 512) body += s;
      });
      res.on('end', () => this.dialFailed(gen, `peer refused the stream: ${status} ${body.trim()}`, status));
      res.on('error', () => this.dialFailed(gen, `peer refused the stream: ${status}`, status));
    });
    req.on('timeout', () => req.destroy(new Error(`dial timeout after ${this.ctx.config.dialTimeoutMs} ms`)));
    req.on('error', (err) => this.dialFailed(gen, err.message, 0));
    req.end();
  }

  private onUpgrade(gen: number, res: IncomingMessage, socket: Socket): void {
    if (gen !== this.gen || this.state !== 'dialing') {
      socket.destroy();
      return;
    }
    this.request = undefined;
    const remoteCluster = parseId(res.headers[PeerHeader.clusterId]);
    if (remoteCluster !== this.ctx.identity.clusterId) {
      socket.destroy();
      this.dialFailed(gen, `peer answered for cluster ${remoteCluster === undefined ? '(none)' : formatId(remoteCluster)}`, 412);
      return;
    }
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    const now = this.ctx.now();
    this.state = 'open';
    this.socket = socket;
    this.lastRead = now;
    this.lastWrite = now;
    this.activeSince = now;
    this.lastError = undefined;
    this.waitingDrain = false;
    this.counters.connects++;
    this.backoff.reset();
    // Per-connection write bookkeeping: a late callback of an older socket cannot touch these.
    const bufs: Buffer[] = [];
    const snaps: number[] = [];
    this.inflightBufs = bufs;
    this.inflightSnaps = snaps;
    this.onWritten = (err) => {
      if (gen !== this.gen) return;
      const buf = bufs.shift();
      const n = snaps.shift() ?? 0;
      if (buf !== undefined && (err === undefined || err === null)) this.encoder.release(buf);
      for (let i = 0; i < n; i++) this.ctx.raft.reportSnapshot(this.id, err === undefined || err === null);
    };
    socket.on('data', () => {
      // The receiver only sends keepalives: any bytes prove the stream alive.
      if (gen === this.gen) this.lastRead = this.ctx.now();
    });
    socket.on('drain', () => {
      if (gen !== this.gen) return;
      this.waitingDrain = false;
      this.flush();
    });
    socket.on('error', (err) => {
      if (gen === this.gen) this.lastError = err.message;
    });
    socket.on('close', () => this.disconnected(gen));
    this.ctx.logger.info('peer became active', { 'remote-peer-id': formatId(this.id), 'remote-peer-url': this.currentUrl });
    this.flush();
  }

  private disconnected(gen: number): void {
    if (gen !== this.gen || this.state !== 'open') return;
    this.socket = undefined;
    this.state = 'waiting';
    this.waitingDrain = false;
    const snaps = this.inflightSnaps;
    for (const n of snaps) for (let i = 0; i < n; i++) this.ctx.raft.reportSnapshot(this.id, false);
    snaps.length = 0;
    this.inflightBufs.length = 0;
    this.deactivate(this.lastError ?? 'stream closed by the peer');
    this.ctx.raft.reportUnreachable(this.id);
    this.scheduleDial();
  }

  private dialFailed(gen: number, reason: string, status: number): void {
    if (gen !== this.gen || this.state !== 'dialing') return;
    this.request = undefined;
    this.state = 'waiting';
    this.lastError = reason;
    this.counters.dialFailures++;
    // Messages queued for a peer we cannot reach would arrive stale: drop them (raft retransmits).
    let failedSnaps = 0;
    const dropped = this.queue.clear((m) => {
      if (m.type === MessageType.MsgSnap) failedSnaps++;
    });
    this.counters.droppedMessages += dropped;
    this.deactivate(reason);
    const key = status === 412 || status === 410 ? `refused ${this.id}` : `dial ${this.id}`;
    const held = this.ctx.limiter.allow(key);
    if (held >= 0) {
      const fields = { 'remote-peer-id': formatId(this.id), 'remote-peer-url': this.currentUrl, error: reason, 'dropped-messages': dropped, 'suppressed-logs': held };
      if (status === 412 || status === 410) this.ctx.logger.error('peer refused the raft stream', { ...fields, 'local-member-id': formatId(this.ctx.identity.memberId), 'local-member-cluster-id': formatId(this.ctx.identity.clusterId), status });
      else this.ctx.logger.warn('failed to dial remote peer', fields);
    }
    this.urlIndex++;
    for (let i = 0; i < failedSnaps; i++) this.ctx.raft.reportSnapshot(this.id, false);
    this.ctx.raft.reportUnreachable(this.id);
    this.scheduleDial();
  }

  private deactivate(reason: string): void {
    if (this.activeSince === undefined) return;
    this.activeSince = undefined;
    this.ctx.logger.warn('peer became inactive (message send to peer failed)', { 'remote-peer-id': formatId(this.id), error: reason });
  }

  private scheduleDial(): void {
    if (this.state === 'stopped') return;
    this.timer = setTimeout(() => this.dial(), this.backoff.next());
  }
}
