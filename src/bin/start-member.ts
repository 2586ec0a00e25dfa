/**
 * Starts a member from its configuration (wiring only): the EtcdServer, the gRPC services over it,
 * and one client listener per --listen-client-urls serving gRPC and HTTP (/health, /version) on
 * the same port. Closing stops listening, then stops the server (the host loop finishes its turn;
 * WAL and backend are flushed and closed). A member that fails while running exits the process.
 */
import { createGrpcH2Server, createGrpcServer } from '../grpc/index.js';
import { createHealthHandler } from '../http/health/health-handler.js';
import { createGatewayHandler } from '../http/gateway/index.js';
import { createV2Handler, v2SourceOf } from '../http/v2/index.js';
import { startClientListener, type ClientListener } from '../http/listener/client-listener.js';
import type { Logger } from '../pkg/logger.js';
import type { ServerConfig } from '../server/config/server-config.js';
import { EtcdServer } from '../server/etcd-server.js';
import type { PeerTransport } from '../transport/index.js';
import { startPeerTransport } from './start-peer-transport.js';

/** A running member. */
export interface RunningMember {
  readonly server: EtcdServer;
  /** The bound client addresses (real ports when 0 was asked). */
  readonly addresses: readonly string[];
  /** Stops serving, releases every port, and stops the server. */
  close(): Promise<void>;
}

/** Starts the member `config` describes. Rejects if its data dir or a port cannot be used. */
export async function startMember(config: ServerConfig, logger: Logger, opts: { exitProcess?: boolean } = {}): Promise<RunningMember> {
  const server = await EtcdServer.start(config, logger);
  const grpcOptions = {
    logger,
    maxRequestBytes: config.maxRequestBytes,
    maxConcurrentStreams: config.maxConcurrentStreams,
    keepAliveIntervalMs: config.grpcKeepAliveIntervalMs,
    keepAliveTimeoutMs: config.grpcKeepAliveTimeoutMs,
  };
  // Our own HTTP/2 server serves gRPC; ETCD_TS_GRPC_SERVER=grpc-js goes back to grpc-js over
  // node:http2 (kept as a fallback while the own server is new).
  const useGrpcJs = process.env.ETCD_TS_GRPC_SERVER === 'grpc-js';
  const grpcServer = useGrpcJs ? createGrpcServer(server, grpcOptions) : undefined;
  const grpcHandler = useGrpcJs ? undefined : createGrpcH2Server(server, grpcOptions);
  const gateway = createGatewayHandler(server, { logger });
  const httpHandler = createHealthHandler(
    {
      isHealthy: async () => {
        const h = await server.health();
        if (!h.health) logger.warn('/health error', { reason: h.reason });
        return h.health;
      },
      clusterVersion: () => server.clusterVersion(),
    },
    { logger, next: config.enableV2 ? createV2Handler(v2SourceOf(server, config.name), { logger, next: gateway }) : gateway },
  );
  logger.info('configuring client listeners', { 'listen-client-urls': config.listenClientUrls.map((u) => u.text) });
  const listeners: ClientListener[] = [];
  let transport: PeerTransport | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all(listeners.map((l) => l.close()));
      grpcServer?.forceShutdown();
      grpcHandler?.close();
      await server.stop();
      await transport?.close();
    })();
    return closing;
  };
  try {
    transport = await startPeerTransport(server, config, logger);
    for (const url of config.listenClientUrls) {
      listeners.push(await startClientListener({ url, grpcServer, grpcHandler, httpHandler, logger }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  for (const l of listeners) logger.info('serving client traffic insecurely', { address: l.address });
  void server.removed.then(async () => {
    logger.warn('the member has been permanently removed from the cluster; exiting');
    await close().catch(() => undefined);
    if (opts.exitProcess !== false) process.exit(0);
  });
  void server.fatal.then(async (err) => {
    logger.fatal('member stopped after a failure', { error: err });
    await close().catch(() => undefined);
    if (opts.exitProcess !== false) process.exit(1);
  });
  return { server, addresses: listeners.map((l) => l.address), close };
}
