/**
 * One TCP port (or unix socket) per client URL, serving gRPC and HTTP/1.1 side by side as
 * etcd's cmux does: each new connection's first bytes are read; a connection that opens with
 * the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, HTTP/2 with prior knowledge,
 * which is how gRPC speaks over plain TCP) goes to the gRPC server, any other to the HTTP
 * server. The bytes read are put back before the connection is handed over. A gRPC connection
 * whose first request carries an etcd 3.4 client's `http://host:port` authority goes through
 * {@link authorityRepairStream}, so that Node's HTTP/2 server does not reset its calls; the
 * others get the socket itself ({@link probeFirstRequest} tells them apart).
 */

import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';
import { unlinkSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Logger } from '../../pkg/logger.js';
import { CLIENT_PREFACE } from '../../pkg/h2/frames.js';
import { authorityRepairStream } from './authority-repair-stream.js';
import { DEFAULT_PROBE_LIMITS, probeFirstRequest, type ProbeLimits } from './first-request-probe.js';
import { parseEtcdUrl, type EtcdUrl } from '../../server/config/urls.js';

/** Which server a connection belongs to, from its first bytes; undefined until they tell. */
export function sniffProtocol(head: Buffer): 'grpc' | 'http' | undefined {
  const n = Math.min(head.length, CLIENT_PREFACE.length);
  if (head.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) return 'http';
  return head.length >= CLIENT_PREFACE.length ? 'grpc' : undefined;
}

/** Options of {@link startClientListener}. */
export interface ClientListenerOptions {
  /** `http://host:port` or `unix://path`; `https` is not served yet. */
  url: string | EtcdUrl;
  /** Receives HTTP/2 connections (grpc-js); without it (or `grpcHandler`) they are closed. */
  grpcServer?: GrpcServer;
  /** Receives HTTP/2 connections instead of `grpcServer`: our own HTTP/2 server. */
  grpcHandler?: GrpcConnectionHandler;
  /** Serves HTTP/1.1 requests. */
  httpHandler: RequestListener;
  logger: Logger;
  /** Limits of the first-request probe of gRPC connections (tests shorten them). */
  probeLimits?: ProbeLimits;
}

/** A server taking whole HTTP/2 connections. */
export interface GrpcConnectionHandler {
  /** Serves `socket` (paused); `head` holds the bytes read from it so far, from the preface on. */
  handleConnection(socket: Socket, head: Buffer): void;
}

/** A listening client port. */
export interface ClientListener {
  /** What is bound: `127.0.0.1:2379` (the real port when 0 was asked) or the socket path. */
  readonly address: string;
  /** gRPC connections handed over so far: with their own socket, or through the authority rewriter. */
  readonly grpcConnections: { native: number; repaired: number };
  /** Stops accepting, closes every connection, and resolves when the port is released. */
  close(): Promise<void>;
}

function listenError(err: NodeJS.ErrnoException, network: string, address: string): Error {
  const why = err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.code === 'EACCES' ? 'bind: permission denied' : err.message;
  return new Error(`listen ${network} ${address}: ${why}`);
}

/** Starts listening on `url` and serving each connection by protocol. */
export async function startClientListener(options: ClientListenerOptions): Promise<ClientListener> {
  let url: EtcdUrl;
  if (typeof options.url === 'string') {
    const parsed = parseEtcdUrl(options.url);
    if (!parsed.ok) throw new Error(parsed.error);
    url = parsed.value;
  } else {
    url = options.url;
  }
  if (url.scheme === 'https' || url.scheme === 'unixs') throw new Error(`TLS client URLs are not supported yet: ${url.text}`);
  const logger = options.logger;
  const probeLimits = options.probeLimits ?? DEFAULT_PROBE_LIMITS;

  const httpServer = createHttpServer(options.httpHandler);
  const injector = options.grpcServer?.createConnectionInjector(ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const grpcConnections = { native: 0, repaired: 0 };

  const route = (socket: Socket): void => {
    sockets.add(socket);
    // Small request/response frames must not wait for Nagle's algorithm: without this, a
    // client that waits for each answer sees ~40 ms per request (delayed ACK meets Nagle).
    socket.setNoDelay(true);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const protocol = sniffProtocol(head);
      if (protocol === undefined) return;
      socket.removeListener('data', onData);
      socket.pause();
      if (protocol === 'http') {
        socket.unshift(head);
        httpServer.emit('connection', socket);
        // The HTTP server reads the socket's handle directly and does not restart a paused
        // socket; resuming delivers the put-back bytes first, then the rest.
        socket.resume();
      } else if (options.grpcHandler !== undefined) {
        grpcConnections.native++;
        options.grpcHandler.handleConnection(socket, head);
      } else if (injector !== undefined) {
        probeFirstRequest(socket, head, probeLimits, (verdict, held) => {
          if (verdict === 'repair') {
            grpcConnections.repaired++;
            injector.injectConnection(authorityRepairStream(socket, held));
            return;
          }
          // Node's HTTP/2 session reads what is buffered in the socket's stream first.
          grpcConnections.native++;
          socket.unshift(held);
          injector.injectConnection(socket);
        });
      } else {
        socket.destroy();
      }
    };
    socket.on('data', onData);
  };

  const netServer = createNetServer(route);
  const unix = url.scheme === 'unix';
  // Go binds "localhost" to the IPv4 loopback; Node might pick ::1 only, which clients dialing
  // 127.0.0.1 (etcdctl's default) would not reach.
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  if (unix) {
    try {
      unlinkSync(url.host); // a stale socket file from an earlier run, as etcd removes it
    } catch {
      // nothing to remove
    }
  }
  await new Promise<void>((resolve, reject) => {
    netServer.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, unix ? 'unix' : 'tcp', url.host)));
    if (unix) netServer.listen(url.host, resolve);
    else netServer.listen(Number(url.port), host, resolve);
  });
  netServer.on('error', (err) => logger.warn('client listener error', { address: url.host, error: err }));

  const bound = netServer.address();
  const address = typeof bound === 'string' || bound === null
    ? url.host
    : (bound as AddressInfo).family === 'IPv6' ? `[${(bound as AddressInfo).address}]:${(bound as AddressInfo).port}` : `${(bound as AddressInfo).address}:${(bound as AddressInfo).port}`;
  logger.info('serving client traffic insecurely; this is strongly discouraged!', { address });

  let closing: Promise<void> | undefined;
  return {
    address,
    grpcConnections,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        netServer.close(() => resolve());
        injector?.destroy();
        httpServer.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
