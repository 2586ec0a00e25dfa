/**
 * The gRPC API edge on our own HTTP/2 server (src/pkg/h2): each connection the client listener
 * hands over becomes an {@link H2ServerConnection}, and each request stream a call of one of
 * etcd's services (services.ts), run by the same handlers grpc-js would run.
 *
 * A unary call: collect the request, unframe and decode it, run the handler with a minimal call
 * object (`request`, `metadata`, `cancelled`), answer with headers, one message and trailers.
 * Streaming calls (Watch, LeaseKeepAlive, Maintenance.Snapshot) get an {@link H2ServerCall}.
 */
import { Metadata, type handleBidiStreamingCall, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { GrpcStatus } from '../api/rpctypes/index.js';
import { H2ServerConnection } from '../pkg/h2/h2-server-connection.js';
import type { H2Stream } from '../pkg/h2/h2-stream.js';
import { encodeHeaderBlock } from '../pkg/h2/hpack-encoder.js';
import { GRPC_OVERHEAD_BYTES, type EtcdServerApi } from '../server/server-api.js';
import { frameMessage } from './grpc-frames.js';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, DEFAULT_MAX_CONCURRENT_STREAMS, type GrpcServerOptions } from './grpc-server.js';
import { H2ServerCall, MessageReader, OK_TRAILER_BLOCK, RESPONSE_HEADER_BLOCK, respondStatusOnly, type MessageCodec, type StatusLike } from './h2-call.js';
import { edgeServices } from './services.js';

type Method = MessageCodec &
  (
    | { kind: 'unary'; handler: handleUnaryCall<unknown, unknown> }
    | { kind: 'bidi'; handler: handleBidiStreamingCall<unknown, unknown> }
    | { kind: 'server-stream'; handler: handleServerStreamingCall<unknown, unknown> }
  );

/** grpc-go's (and so etcd's) limit on a request's header list: 16 MiB. */
const MAX_HEADER_LIST_BYTES = 16 << 20;
const NO_METADATA = new Metadata();

/** The gRPC edge as the client listener uses it. */
export interface GrpcH2Server {
  /** Serves an HTTP/2 connection; `head` holds the bytes already read (from the preface on). */
  handleConnection(socket: Duplex, head: Buffer): void;
  /** Closes every connection. */
  close(): void;
  /** Connections open now, and calls served so far. */
  readonly stats: { connections: number; calls: number };
}

/** The fields of a request header list that this edge reads. */
interface RequestHeaders {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  encoding: string | undefined;
  /** Whether a field the handlers read from metadata (the auth token) is present. */
  hasMetadata: boolean;
}

function readHeaders(fields: string[]): RequestHeaders {
  const h: RequestHeaders = { method: undefined, path: undefined, contentType: undefined, encoding: undefined, hasMetadata: false };
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    switch (name) {
      case ':method':
        h.method = fields[i + 1];
        break;
      case ':path':
        h.path = fields[i + 1];
        break;
      case 'content-type':
        h.contentType = fields[i + 1];
        break;
      case 'grpc-encoding':
        h.encoding = fields[i + 1];
        break;
      case 'token':
      case 'authorization':
        h.hasMetadata = true;
        break;
    }
  }
  return h;
}

/** The call's metadata as grpc-js would give it; shared and empty when nothing a handler reads is there. */
function callMetadata(fields: string[], h: RequestHeaders): Metadata {
  if (!h.hasMetadata) return NO_METADATA;
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.startsWith(':')) continue;
    const prev = headers[name];
    headers[name] = prev === undefined ? fields[i + 1] : `${String(prev)}, ${fields[i + 1]}`;
  }
  return Metadata.fromHttp2Headers(headers);
}

/** grpc-go's status for a path naming no method served here. */
function unknownMethodText(path: string): string {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m === null ? `malformed method name: "${path}"` : `unknown service ${m[1]}`;
}

/** Answers an HTTP-level refusal (not a gRPC request at all). */
function respondHttpStatus(stream: H2Stream, status: number): void {
  stream.respond(encodeHeaderBlock([[':status', String(status)]]), true);
}

function serveUnary(stream: H2Stream, metadata: Metadata, method: Method & { kind: 'unary' }, maxReceiveBytes: number): void {
  let body: Buffer | undefined;
  let refused = false;
  const reader = new MessageReader(
    maxReceiveBytes,
    (msg) => {
      if (body === undefined) body = msg;
    },
    (code, details) => {
      refused = true;
      respondStatusOnly(stream, code, details);
    },
  );
  const state = { request: undefined as unknown, metadata, cancelled: false };
  stream.onData = (chunk) => reader.push(chunk);
  stream.onClose = (reset) => {
    if (reset) state.cancelled = true;
  };
  stream.onEnd = () => {
    if (refused) return;
    if (body === undefined) {
      const why = reader.partialBytes === 0 ? 'grpc: error while receiving request: EOF' : 'grpc: error unmarshalling request: unexpected EOF';
      respondStatusOnly(stream, GrpcStatus.INTERNAL, why);
      return;
    }
    state.request = method.decode(body);
    method.handler(state as unknown as Parameters<typeof method.handler>[0], (err, res) => {
      if (stream.closed) return;
      if (err !== null && err !== undefined) {
        const status = err as StatusLike;
        respondStatusOnly(stream, status.code ?? GrpcStatus.UNKNOWN, status.details ?? status.message ?? '');
        return;
      }
      stream.respond(RESPONSE_HEADER_BLOCK);
      stream.write(method.frame(res));
      stream.end(OK_TRAILER_BLOCK);
    });
  };
}

function serveServerStream(stream: H2Stream, metadata: Metadata, method: Method & { kind: 'server-stream' }, maxReceiveBytes: number): void {
  const call = new H2ServerCall(stream, metadata, method, maxReceiveBytes);
  let request: unknown;
  let received = false;
  call.on('data', (req: unknown) => {
    if (!received) {
      received = true;
      request = req;
    }
  });
  call.once('end', () => {
    if (!received) {
      call.emit('error', { code: GrpcStatus.INTERNAL, details: 'grpc: error while receiving request: EOF' });
      return;
    }
    call.request = request;
    method.handler(call as unknown as Parameters<typeof method.handler>[0]);
  });
}

/** The method table of `server`'s services, keyed by gRPC path. */
function methodTable(server: EtcdServerApi, options: GrpcServerOptions): Map<string, Method> {
  const watchOptions = { maxRequestBytes: options.maxRequestBytes, progressNotifyIntervalMs: options.watchProgressNotifyIntervalMs };
  const methods = new Map<string, Method>();
  for (const { definition, implementation } of edgeServices(server, options.logger, watchOptions)) {
    for (const [name, def] of Object.entries(definition)) {
      const handler = implementation[name];
      if (typeof handler !== 'function') continue;
      const serialize = def.responseSerialize as (res: unknown) => Buffer;
      const framed = (def as { responseFramed?: (res: unknown) => Buffer }).responseFramed;
      const codec: MessageCodec = { decode: def.requestDeserialize as (bytes: Buffer) => unknown, frame: framed ?? ((res: unknown) => frameMessage(serialize(res))) };
      if (def.requestStream && def.responseStream) methods.set(def.path, { ...codec, kind: 'bidi', handler: handler as handleBidiStreamingCall<unknown, unknown> });
      else if (def.responseStream) methods.set(def.path, { ...codec, kind: 'server-stream', handler: handler as handleServerStreamingCall<unknown, unknown> });
      else if (!def.requestStream) methods.set(def.path, { ...codec, kind: 'unary', handler: handler as handleUnaryCall<unknown, unknown> });
      // etcd has no client-streaming method.
    }
  }
  return methods;
}

/** The gRPC edge over our HTTP/2 server, serving `server`'s services. */
export function createGrpcH2Server(server: EtcdServerApi, options: GrpcServerOptions): GrpcH2Server {
  const methods = methodTable(server, options);
  const maxReceiveBytes = options.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const connections = new Set<H2ServerConnection>();
  const stats = { connections: 0, calls: 0 };
  const both = (options.keepAliveIntervalMs ?? 0) > 0 && (options.keepAliveTimeoutMs ?? 0) > 0;

  const onStream = (stream: H2Stream, fields: string[]): void => {
    stats.calls++;
    const h = readHeaders(fields);
    if (h.method !== 'POST') return respondHttpStatus(stream, 405);
    if (h.contentType === undefined || !h.contentType.startsWith('application/grpc')) return respondHttpStatus(stream, 415);
    const path = h.path ?? '';
    const method = methods.get(path);
    if (method === undefined) return respondStatusOnly(stream, GrpcStatus.UNIMPLEMENTED, unknownMethodText(path));
    if (h.encoding !== undefined && h.encoding !== 'identity') {
      return respondStatusOnly(stream, GrpcStatus.UNIMPLEMENTED, `grpc: Decompressor is not installed for grpc-encoding "${h.encoding}"`);
    }
    const metadata = callMetadata(fields, h);
    switch (method.kind) {
      case 'unary':
        serveUnary(stream, metadata, method, maxReceiveBytes);
        return;
      case 'bidi': {
        const call = new H2ServerCall(stream, metadata, method, maxReceiveBytes);
        method.handler(call as unknown as Parameters<typeof method.handler>[0]);
        return;
      }
      case 'server-stream':
        serveServerStream(stream, metadata, method, maxReceiveBytes);
        return;
    }
  };

  return {
    stats,
    handleConnection(socket: Duplex, head: Buffer): void {
      const conn = new H2ServerConnection(socket, head, {
        maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
        maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
        onStream,
        keepAliveIntervalMs: both ? options.keepAliveIntervalMs! : DEFAULT_KEEPALIVE_INTERVAL_MS,
        keepAliveTimeoutMs: both ? options.keepAliveTimeoutMs! : DEFAULT_KEEPALIVE_TIMEOUT_MS,
      });
      connections.add(conn);
      stats.connections++;
      socket.once('close', () => {
        connections.delete(conn);
        stats.connections--;
      });
    },
    close(): void {
      for (const c of connections) c.destroy();
    },
  };
}
