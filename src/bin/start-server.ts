/**
 * Starts a member from its configuration. The one place where the server is started: today a
 * placeholder that serves only `/health` (reporting unhealthy) and `/version` on each client
 * URL, and gRPC with no services (every call answers UNIMPLEMENTED). It is to be replaced by
 * the real server; nothing here pretends to store keys.
 */

import { Server as GrpcServer } from '@grpc/grpc-js';
import { createHealthHandler } from '../http/health/health-handler.js';
import { startClientListener, type ClientListener } from '../http/listener/client-listener.js';
import type { Logger } from '../pkg/logger.js';
import type { ServerConfig } from '../server/config/server-config.js';

/** A running member. */
export interface RunningServer {
  /** Stops serving and releases every port. */
  close(): Promise<void>;
}

/** Starts the member described by `config`. Rejects if a port cannot be bound. */
export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  logger.info('configuring client listeners', { 'listen-client-urls': config.listenClientUrls.map((u) => u.text) });
  logger.warn('server not yet implemented: serving only /health and /version; gRPC calls answer UNIMPLEMENTED');
  const grpcServer = new GrpcServer({ 'grpc.max_receive_message_length': config.maxRequestBytes + 512 * 1024 });
  const httpHandler = createHealthHandler({ isHealthy: () => false }, { logger });
  const listeners: ClientListener[] = [];
  try {
    for (const url of config.listenClientUrls) {
      listeners.push(await startClientListener({ url, grpcServer, httpHandler, logger }));
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    grpcServer.forceShutdown();
    throw err;
  }
  return {
    async close(): Promise<void> {
      await Promise.all(listeners.map((l) => l.close()));
      grpcServer.forceShutdown();
    },
  };
}
