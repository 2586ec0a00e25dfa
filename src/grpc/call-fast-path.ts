/**
 * Serves calls straight from their HTTP/2 streams, below grpc-js. A put spends about a third of
 * its CPU in grpc-js and Node's HTTP/2 layer; grpc-js's share (interceptor chain, metadata
 * objects, stream decoders, per-call and per-message queues) buys nothing etcd's calls use.
 * A unary call here is: collect the body, unframe one message, decode it, run the same handler
 * grpc-js would run (with a minimal call object: `request` and `metadata`), answer with headers,
 * one framed message and trailers. A bidirectional stream (Watch, LeaseKeepAlive) gets a
 * {@link FastDuplexCall}. Server-streaming calls, compressed requests and anything unusual still
 * go to grpc-js.
 *
 * The hook is grpc-js's per-stream entry point, `Server#_streamHandler`, replaced on the instance
 * before the server creates its HTTP/2 servers (they bind it then). It is not public API: when it
 * is missing (a grpc-js upgrade renamed it) nothing is installed and grpc-js serves every call;
 * a unit test checks that the fast path is in use, so an upgrade that loses it shows there.
 */
import {
  Metadata,
  type Server,
  type ServerUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type handleBidiStreamingCall,
  type handleUnaryCall,
} from '@grpc/grpc-js';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { GrpcStatus } from '../api/rpctypes/index.js';
import { FastDuplexCall } from './fast-duplex-call.js';
import { frameMessage, MESSAGE_PREFIX_BYTES, RESPOND_WITH_TRAILERS, RESPONSE_HEADERS, respondWithStatus } from './grpc-frames.js';
import { COMPRESSED_WITHOUT_ENCODING_TEXT, receivedTooLargeText } from './grpc-go-status-text.js';
import { sendTrailersNow } from './prompt-trailers.js';

/** One method served by the fast path: a unary one, or one streaming both ways. */
type FastMethod = {
  decode(bytes: Buffer): unknown;
  /** The response as one length-prefixed message. */
  frame(res: unknown): Buffer;
} & ({ kind: 'unary'; handler: handleUnaryCall<unknown, unknown> } | { kind: 'bidi'; handler: handleBidiStreamingCall<unknown, unknown> });

/** Counters, for tests and diagnostics. */
export interface UnaryFastPathStats {
  calls: number;
}

type StreamHandler = (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

const NO_METADATA = new Metadata();
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };

/** The call's metadata as grpc-js would give it; shared and empty when the request carries none that is read. */
function callMetadata(headers: IncomingHttpHeaders): Metadata {
  // Only the auth token is read from a unary call's metadata (src/server/auth-api.ts).
  if (headers.token === undefined && headers.authorization === undefined) return NO_METADATA;
  return Metadata.fromHttp2Headers(headers);
}

function answerMessage(stream: ServerHttp2Stream, framed: Buffer): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
  stream.once('wantTrailers', () => sendTrailersNow(stream, OK_TRAILERS));
  stream.end(framed);
}

function serveUnary(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, method: FastMethod & { kind: 'unary' }, maxReceiveBytes: number): void {
  // Errors (a reset by the client, at its deadline) end in 'close'; there is nobody to answer.
  stream.on('error', () => {});
  const chunks: Buffer[] = [];
  let received = 0;
  let refused = false;
  let checked = false;
  stream.on('data', (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    chunks.push(chunk);
    if (!checked && received >= MESSAGE_PREFIX_BYTES) {
      checked = true;
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const length = head.readUInt32BE(1);
      if (length > maxReceiveBytes) {
        refused = true;
        chunks.length = 0;
        // grpc-go's words, which etcd's clients see from real etcd.
        respondWithStatus(stream, GrpcStatus.RESOURCE_EXHAUSTED, receivedTooLargeText(length, maxReceiveBytes));
      }
    }
  });
  stream.on('end', () => {
    if (refused) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    if (body.length < MESSAGE_PREFIX_BYTES || body.length !== MESSAGE_PREFIX_BYTES + body.readUInt32BE(1)) {
      const why = body.length === 0 ? 'grpc: error while receiving request: EOF' : 'grpc: error unmarshalling request: unexpected EOF';
      respondWithStatus(stream, GrpcStatus.INTERNAL, why);
      return;
    }
    if (body[0] !== 0) {
      respondWithStatus(stream, GrpcStatus.INTERNAL, COMPRESSED_WITHOUT_ENCODING_TEXT);
      return;
    }
    const request = method.decode(body.subarray(MESSAGE_PREFIX_BYTES));
    // `cancelled` as grpc-js keeps it: set when the stream closes before it was answered.
    const state = { request, metadata: callMetadata(headers), cancelled: false };
    stream.once('close', () => {
      state.cancelled = true;
    });
    const call = state as unknown as ServerUnaryCall<unknown, unknown>;
    method.handler(call, (err, res) => {
      if (err !== null && err !== undefined) {
        const status = err as { code?: number; details?: string; message?: string };
        respondWithStatus(stream, status.code ?? GrpcStatus.UNKNOWN, status.details ?? status.message ?? '');
        return;
      }
      answerMessage(stream, method.frame(res));
    });
  });
}

const installed = new WeakMap<Server, UnaryFastPathStats>();

/** The fast path's counters on `server`, undefined when it is not installed there. */
export function unaryFastPathStats(server: Server): UnaryFastPathStats | undefined {
  return installed.get(server);
}

/** A request grpc-js would treat as a plain unary gRPC call: POST, gRPC content type, no compression. */
function isPlainGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['grpc-encoding'];
  return headers[':method'] === 'POST' && typeof type === 'string' && type.startsWith('application/grpc') && (encoding === undefined || encoding === 'identity');
}

/**
 * Routes the unary methods of `services` through the fast path of `server` (call before the
 * server binds a port or creates a connection injector). Returns the counters, or undefined
 * when grpc-js offers no hook and every call stays with grpc-js.
 */
export function installUnaryFastPath(
  server: Server,
  services: readonly { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[],
  maxReceiveBytes: number,
): UnaryFastPathStats | undefined {
  const target = server as unknown as { _streamHandler?: StreamHandler };
  const original = target._streamHandler;
  if (typeof original !== 'function') return undefined;
  const methods = new Map<string, FastMethod>();
  for (const { definition, implementation } of services) {
    for (const [name, def] of Object.entries(definition)) {
      const handler = implementation[name];
      if (typeof handler !== 'function' || def.requestStream !== def.responseStream) continue;
      const serialize = def.responseSerialize as (res: unknown) => Buffer;
      const framed = (def as { responseFramed?: (res: unknown) => Buffer }).responseFramed;
      const codec = { decode: def.requestDeserialize as (bytes: Buffer) => unknown, frame: framed ?? ((res: unknown) => frameMessage(serialize(res))) };
      if (def.requestStream) methods.set(def.path, { ...codec, kind: 'bidi', handler: handler as handleBidiStreamingCall<unknown, unknown> });
      else methods.set(def.path, { ...codec, kind: 'unary', handler: handler as handleUnaryCall<unknown, unknown> });
    }
  }
  const stats: UnaryFastPathStats = { calls: 0 };
  installed.set(server, stats);
  target._streamHandler = function (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const method = methods.get(headers[':path'] ?? '');
    if (method === undefined || !isPlainGrpc(headers)) {
      original.call(this, extra, stream, headers);
      return;
    }
    stats.calls++;
    if (method.kind === 'unary') {
      serveUnary(stream, headers, method, maxReceiveBytes);
      return;
    }
    stream.on('error', () => {});
    const call = new FastDuplexCall(stream, callMetadata(headers), method.decode, method.frame, maxReceiveBytes);
    method.handler(call as unknown as Parameters<typeof method.handler>[0]);
  };
  return stats;
}
