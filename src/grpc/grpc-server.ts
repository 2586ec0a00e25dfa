/**
 * The gRPC API edge on grpc-js: a grpc-js Server serving etcd's v3 services from an
 * EtcdServerApi, with etcd 3.4's transport limits. The member serves gRPC on our own HTTP/2
 * server (grpc-h2-server.ts); this one is the fallback (ETCD_TS_GRPC_SERVER=grpc-js), with the
 * same handlers, and a test runs the edge suite against both. It is not bound to a port here:
 * the client listener injects connections into it (see src/http/listener), or a test binds it.
 */
import { Server, type ServerOptions } from '@grpc/grpc-js';
import type { Logger } from '../pkg/logger.js';
import type { EtcdServerApi } from '../server/server-api.js';
import { grpcGoStatusText } from './grpc-go-status-text.js';
import { edgeServices } from './services.js';

import { GRPC_OVERHEAD_BYTES } from '../server/server-api.js';

export { GRPC_OVERHEAD_BYTES };
/** etcd's gRPC send limit (math.MaxInt32). */
export const MAX_SEND_BYTES = 2 ** 31 - 1;
/** etcd's default --max-concurrent-streams (math.MaxUint32). */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 2 ** 32 - 1;
/** etcd's default --grpc-keepalive-interval: the server pings an idle connection after 2 h. */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 2 * 60 * 60 * 1000;
/** etcd's default --grpc-keepalive-timeout: a ping unanswered for 20 s closes the connection. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  logger: Logger;
  /** --max-request-bytes; the receive limit is this plus {@link GRPC_OVERHEAD_BYTES}. */
  maxRequestBytes: number;
  /** --max-concurrent-streams per connection (default etcd's, 2^32-1). */
  maxConcurrentStreams?: number;
  /** --grpc-keepalive-interval in ms; 0 or absent: etcd's default 2 h. */
  keepAliveIntervalMs?: number;
  /** --grpc-keepalive-timeout in ms; 0 or absent: etcd's default 20 s. */
  keepAliveTimeoutMs?: number;
  /** Progress notification interval of watchers asking for it; default etcd's 10 minutes (tests shorten it). */
  watchProgressNotifyIntervalMs?: number;
}

/**
 * The server keepalive in effect: etcd sets it only when both interval and timeout are positive;
 * otherwise grpc-go's defaults apply, which are the same 2 h and 20 s.
 */
export function serverKeepAlive(options: Pick<GrpcServerOptions, 'keepAliveIntervalMs' | 'keepAliveTimeoutMs'>): { intervalMs: number; timeoutMs: number } {
  const both = (options.keepAliveIntervalMs ?? 0) > 0 && (options.keepAliveTimeoutMs ?? 0) > 0;
  return both
    ? { intervalMs: options.keepAliveIntervalMs!, timeoutMs: options.keepAliveTimeoutMs! }
    : { intervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS, timeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS };
}

/** The grpc-js options etcd's settings translate to. */
export function grpcServerOptions(options: Omit<GrpcServerOptions, 'logger'>): ServerOptions {
  // --grpc-keepalive-min-time (the ping rate etcd enforces on clients) has no grpc-js
  // counterpart: clients pinging more often are not sent away as etcd would.
  const keepAlive = serverKeepAlive(options);
  return {
    'grpc.max_receive_message_length': options.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': MAX_SEND_BYTES,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    'grpc.keepalive_time_ms': keepAlive.intervalMs,
    'grpc.keepalive_timeout_ms': keepAlive.timeoutMs,
    // channelz bookkeeping costs time on every call and nothing reads it.
    'grpc.enable_channelz': 0,
    interceptors: [grpcGoStatusText],
  };
}

/**
 * A grpc-js Server serving the KV, Maintenance and Cluster services of `server`. Other etcd
 * services answer UNIMPLEMENTED until they are added in services.ts. The caller binds it or
 * injects connections, and shuts it down.
 */
export function createGrpcServer(server: EtcdServerApi, options: GrpcServerOptions): Server {
  const grpcServer = new Server(grpcServerOptions(options));
  const watchOptions = { maxRequestBytes: options.maxRequestBytes, progressNotifyIntervalMs: options.watchProgressNotifyIntervalMs };
  const services = edgeServices(server, options.logger, watchOptions);
  for (const service of services) {
    grpcServer.addService(service.definition, service.implementation);
  }
  return grpcServer;
}
