import type { RequestListener, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../pkg/logger.js';
import type { LogLimiter } from './log-limiter.js';
import type { PeerIdentity } from './peer-handshake.js';
import type { RaftReceiver } from './raft-receiver.js';
import type { SnapshotReceiver } from './snapshot-receiver.js';

/** Options of a PeerTransport; durations in ms, sizes in bytes. */
export interface PeerTransportOptions {
  /** The local member's ID. */
  memberId: bigint;
  /** The cluster's ID; peers of any other cluster are refused. */
  clusterId: bigint;
  logger: Logger;
  /** The local raft node. */
  raft: RaftReceiver;
  /** Takes over received snapshot bodies. */
  snapshots: SnapshotReceiver;
  /** Directory for incoming snapshot temporary files: the snap dir, so the server's rename into place is atomic. */
  snapshotDir: string;
  /** Most messages queued per peer (default 4096, etcd's stream buffer). */
  queueCapacity?: number;
  /** Most estimated bytes queued per peer (default 64 MiB). */
  queueMaxBytes?: number;
  /** Soft cap of one socket write (default 4 MiB). */
  maxBatchBytes?: number;
  /** Largest frame accepted on a stream (default 256 MiB); a longer one breaks the stream. */
  maxFrameBytes?: number;
  /** Bytes buffered in a socket above which the peer stops writing until it drains (default 8 MiB). */
  socketHighWater?: number;
  /** Time allowed to connect and complete the stream handshake (default 1000, etcd's dial timeout). */
  dialTimeoutMs?: number;
  /** Idle time after which a stream sends a keepalive frame (default 1000). */
  keepaliveIntervalMs?: number;
  /** Silence after which a stream is taken for dead and closed (default 5000, etcd's read timeout). */
  readTimeoutMs?: number;
  /** First redial delay (default 50). */
  backoffInitialMs?: number;
  /** Cap of the redial delay (default 2000). */
  backoffMaxMs?: number;
  /** Silence after which a snapshot upload or download is aborted (default 30000). */
  snapshotIdleTimeoutMs?: number;
  /** Minimum time between two repeated log lines of one kind (default 5000). */
  logIntervalMs?: number;
  /** Uniform source in [0, 1) for redial jitter (default Math.random). */
  rand?: () => number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** TLS of the peer port (for https listen URLs) and of dials to https peer URLs. */
  tls?: { server?: HttpsServerOptions; client?: ConnectionOptions };
  /** Serves every other path of the peer port (etcd's /members, /leases, /version); default 404. */
  handler?: RequestListener<typeof IncomingMessage, typeof ServerResponse>;
}

/** Numeric settings after defaults. */
export interface TransportConfig {
  queueCapacity: number;
  queueMaxBytes: number;
  maxBatchBytes: number;
  maxFrameBytes: number;
  socketHighWater: number;
  dialTimeoutMs: number;
  keepaliveIntervalMs: number;
  readTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  snapshotIdleTimeoutMs: number;
  clientTls: ConnectionOptions;
}

/** Fills in the defaults of the numeric options. */
export function resolveConfig(o: PeerTransportOptions): TransportConfig {
  return {
    queueCapacity: o.queueCapacity ?? 4096,
    queueMaxBytes: o.queueMaxBytes ?? 64 * 1024 * 1024,
    maxBatchBytes: o.maxBatchBytes ?? 4 * 1024 * 1024,
    maxFrameBytes: o.maxFrameBytes ?? 256 * 1024 * 1024,
    socketHighWater: o.socketHighWater ?? 8 * 1024 * 1024,
    dialTimeoutMs: o.dialTimeoutMs ?? 1000,
    keepaliveIntervalMs: o.keepaliveIntervalMs ?? 1000,
    readTimeoutMs: o.readTimeoutMs ?? 5000,
    backoffInitialMs: o.backoffInitialMs ?? 50,
    backoffMaxMs: o.backoffMaxMs ?? 2000,
    snapshotIdleTimeoutMs: o.snapshotIdleTimeoutMs ?? 30_000,
    clientTls: o.tls?.client ?? {},
  };
}

/** What a transport's parts (outbound peers, inbound streams, snapshot paths) share. */
export interface TransportContext {
  readonly identity: PeerIdentity;
  readonly logger: Logger;
  readonly raft: RaftReceiver;
  readonly config: TransportConfig;
  readonly limiter: LogLimiter;
  readonly now: () => number;
  readonly rand: () => number;
}
