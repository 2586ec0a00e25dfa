/**
 * The settings one etcd-ts member runs with, after flags, `ETCD_*` environment variables or a
 * YAML config file were applied and checked (see parse-config.ts). Field names follow etcd's
 * flags; units are in the names or the notes.
 */

import type { EtcdUrl } from './urls.js';

/** `--initial-cluster-state`: bootstrap a new cluster, or join one that exists. */
export type ClusterState = 'new' | 'existing';

/** `--auto-compaction-mode`: retain a time window, or a number of revisions. */
export type AutoCompactionMode = 'periodic' | 'revision';

/** TLS settings for the client or the peer side. Accepted and stored; not yet served. */
export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly crlFile: string;
  readonly autoTls: boolean;
  /** Required common name of peer client certificates (peer side only). */
  readonly allowedCn: string;
  readonly allowedHostname: string;
}

/** One member's configuration. Immutable once parsed. */
export interface ServerConfig {
  /** Human-readable member name (`--name`, default `default`). */
  readonly name: string;
  /** Data directory (`--data-dir`, default `<name>.etcd`). */
  readonly dataDir: string;
  /** Dedicated WAL directory; empty means `<dataDir>/member/wal`. */
  readonly walDir: string;
  /** Applied entries between snapshots (`--snapshot-count`). */
  readonly snapshotCount: number;
  /** Snapshot files to keep; 0 keeps all. */
  readonly maxSnapshots: number;
  /** WAL files to keep; 0 keeps all. */
  readonly maxWals: number;
  /** Raft heartbeat interval in milliseconds; also the tick length. */
  readonly heartbeatIntervalMs: number;
  /** Raft election timeout in milliseconds; invariant: >= 5 × heartbeatIntervalMs, <= 50000. */
  readonly electionTimeoutMs: number;
  /** Fast-forward election ticks at boot so the first election comes sooner. */
  readonly initialElectionTickAdvance: boolean;

  /** URLs to listen on for peer traffic, sorted. */
  readonly listenPeerUrls: readonly EtcdUrl[];
  /** URLs to listen on for client traffic (gRPC and HTTP on each), sorted. */
  readonly listenClientUrls: readonly EtcdUrl[];
  /** Peer URLs this member advertises; they determine its member ID. */
  readonly initialAdvertisePeerUrls: readonly EtcdUrl[];
  /** Client URLs this member advertises. */
  readonly advertiseClientUrls: readonly EtcdUrl[];
  /** Extra URLs serving only /metrics and /health. */
  readonly listenMetricsUrls: readonly EtcdUrl[];

  /** `name=peerURL,...` of the initial members; parse with parseInitialCluster. Empty with discovery. */
  readonly initialCluster: string;
  readonly initialClusterState: ClusterState;
  /** Mixed into member IDs so that two clusters with the same URLs get distinct IDs. */
  readonly initialClusterToken: string;
  /** Discovery settings: accepted and stored; discovery is not implemented. */
  readonly discovery: string;
  readonly discoveryFallback: 'exit' | 'proxy';
  readonly discoveryProxy: string;
  readonly discoverySrv: string;
  readonly discoverySrvName: string;

  /** Reject member changes that could lose quorum. */
  readonly strictReconfigCheck: boolean;
  /** Run the Raft pre-vote phase (Raft thesis §9.6). */
  readonly preVote: boolean;
  /** Serve the v2 API. */
  readonly enableV2: boolean;
  /** Serve the gRPC JSON gateway. */
  readonly enableGrpcGateway: boolean;

  readonly autoCompactionMode: AutoCompactionMode;
  /** `--auto-compaction-retention` as written. */
  readonly autoCompactionRetentionText: string;
  /**
   * The retention, parsed as etcd does: in periodic mode milliseconds (a bare number means
   * hours); in revision mode a number of revisions. 0 disables auto compaction.
   */
  readonly autoCompactionRetention: number;

  /** Backend size that raises the NOSPACE alarm, in bytes, as configured: 0 means the 2 GiB default, negative disables the quota. See {@link effectiveQuotaBackendBytes}. */
  readonly quotaBackendBytes: number;
  /** Longest time before the backend commits a batch, in milliseconds; 0 means the backend default. */
  readonly backendBatchIntervalMs: number;
  /** Most operations before the backend commits a batch; 0 means the backend default. */
  readonly backendBatchLimit: number;
  /** Most operations in one transaction. */
  readonly maxTxnOps: number;
  /** Largest client request in bytes. */
  readonly maxRequestBytes: number;
  /** Most concurrent streams per client connection. */
  readonly maxConcurrentStreams: number;
  /** gRPC keepalive: minimum ping interval clients must respect, in milliseconds. */
  readonly grpcKeepAliveMinTimeMs: number;
  /** gRPC keepalive: server ping interval in milliseconds; 0 disables. */
  readonly grpcKeepAliveIntervalMs: number;
  /** gRPC keepalive: ping response timeout in milliseconds; 0 disables. */
  readonly grpcKeepAliveTimeoutMs: number;

  readonly clientTls: TlsSettings;
  readonly peerTls: TlsSettings;
  readonly cipherSuites: readonly string[];
  /** Allowed CORS origins; `*` allows all. */
  readonly cors: readonly string[];
  /** Accepted Host headers on insecure HTTP; `*` accepts all. */
  readonly hostWhitelist: readonly string[];

  /** `simple` or a `jwt,...` option string. */
  readonly authToken: string;
  readonly bcryptCost: number;
  /** Lifetime of simple auth tokens in seconds. */
  readonly authTokenTtlSeconds: number;

  readonly enablePprof: boolean;
  /** `basic` or `extensive`. */
  readonly metrics: string;

  /** `zap` or `capnslog`; etcd-ts writes zap-style JSON lines either way. */
  readonly logger: 'zap' | 'capnslog';
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';
  /** `default`/`stderr`, `stdout`, or file paths. */
  readonly logOutputs: readonly string[];

  /** Start a new one-member cluster from existing data (unsafe). */
  readonly forceNewCluster: boolean;

  readonly experimentalInitialCorruptCheck: boolean;
  /** Interval between cluster corruption checks in milliseconds; 0 disables. */
  readonly experimentalCorruptCheckTimeMs: number;
  readonly experimentalEnableLeaseCheckpoint: boolean;
  /** Most revisions deleted per compaction batch. */
  readonly experimentalCompactionBatchLimit: number;
  /** Interval of watch progress notifications in milliseconds. */
  readonly experimentalWatchProgressNotifyIntervalMs: number;
  /** Applies slower than this many milliseconds are logged as warnings. */
  readonly experimentalWarningApplyDurationMs: number;

  /** v2 proxy mode: accepted; only `off` is served. */
  readonly proxy: 'off' | 'readonly' | 'on';

  /** The config file the settings came from, if any (flags and environment were then ignored). */
  readonly configFile: string;
}

/** The backend quota when `--quota-backend-bytes` is 0: 2 GiB, as etcd 3.4. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;

/** The largest quota etcd 3.4 recommends (8 GiB); larger values earn a startup warning. */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;

/** The longest election timeout etcd accepts, in milliseconds. */
export const MAX_ELECTION_TIMEOUT_MS = 50000;

/** The member name used when `--name` is not given. */
export const DEFAULT_NAME = 'default';

/** `--initial-cluster` when not given: the default name at the default peer URL. */
export const DEFAULT_INITIAL_CLUSTER = 'default=http://localhost:2380';

/** Entries a leader keeps after a snapshot so slow followers can catch up without one. */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

/** The quota a member enforces: 0 means the default; undefined means no quota. */
export function effectiveQuotaBackendBytes(config: ServerConfig): number | undefined {
  if (config.quotaBackendBytes < 0) return undefined;
  return config.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BACKEND_BYTES : config.quotaBackendBytes;
}

/** The WAL directory a member uses. */
export function walDirOf(config: ServerConfig): string {
  return config.walDir !== '' ? config.walDir : `${config.dataDir}/member/wal`;
}

/** Election timeout in ticks (ticks are heartbeat intervals), as raft counts it. */
export function electionTicks(config: ServerConfig): number {
  return Math.floor(config.electionTimeoutMs / config.heartbeatIntervalMs);
}
