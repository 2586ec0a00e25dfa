/**
 * Serves unary calls straight from the HTTP/2 stream, below grpc-js. A put spends about a third
 * of its CPU in grpc-js and Node's HTTP/2 layer; grpc-js's share (interceptor chain, metadata
 * objects, stream decoders, per-call queues) buys nothing a unary etcd call uses. Here a call is:
 * collect the body, unframe one message, decode it, run the same handler grpc-js would run (with
 * a minimal call object: `request` and `metadata`), answer with headers, one framed message and
 * trailers. Streaming calls, compressed requests and anything unusual still go to grpc-js.
 *
 * The hook is grpc-js's per-stream entry point, `Server#_streamHandler`, replaced on the instance
 * before the server creates its HTTP/2 servers (they bind it then). It is not public API: when it
 * is missing (a grpc-js upgrade renamed it) nothing is installed and grpc-js serves every call;
 * a unit test checks that the fast path is in use, so an upgrade that loses it shows there.
 */
import { Metadata, type Server, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation, type handleUnaryCall } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { GrpcStatus } from '../api/rpctypes/index.js';

/** One unary method served by the fast path. */
interface FastMethod {
  decode(bytes: Buffer): unknown;
  encode(res: unknown): Buffer;
  handler: handleUnaryCall<unknown, unknown>;
}

/** Counters, for tests and diagnostics. */
export interface UnaryFastPathStats {
  calls: number;
}

type StreamHandler = (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

const FRAME_HEADER = 5;
const NO_METADATA = new Metadata();
const OK_TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };
const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' };
const RESPOND_OPTIONS = { waitForTrailers: true };

/** grpc-message is percent-encoded outside printable ASCII (and `%` itself), as the gRPC spec says. */
function encodeGrpcMessage(text: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The call's metadata as grpc-js would give it; shared and empty when the request carries none that is read. */
function callMetadata(headers: IncomingHttpHeaders): Metadata {
  // Only the auth token is read from a unary call's metadata (src/server/auth-api.ts).
  if (headers.token === undefined && headers.authorization === undefined) return NO_METADATA;
  return Metadata.fromHttp2Headers(headers);
}

function answerStatus(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, { endStream: true });
}

function answerMessage(stream: ServerHttp2Stream, body: Buffer): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const framed = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  framed[0] = 0;
  framed.writeUInt32BE(body.length, 1);
  body.copy(framed, FRAME_HEADER);
  stream.respond(RESPONSE_HEADERS, RESPOND_OPTIONS);
  stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
  stream.end(framed);
}

function serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, method: FastMethod, maxReceiveBytes: number): void {
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
    if (!checked && received >= FRAME_HEADER) {
      checked = true;
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const length = head.readUInt32BE(1);
      if (length > maxReceiveBytes) {
        refused = true;
        chunks.length = 0;
        // grpc-go's words, which etcd's clients see from real etcd.
        answerStatus(stream, GrpcStatus.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${length} vs. ${maxReceiveBytes})`);
      }
    }
  });
  stream.on('end', () => {
    if (refused) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    if (body.length < FRAME_HEADER || body.length !== FRAME_HEADER + body.readUInt32BE(1)) {
      const why = body.length === 0 ? 'grpc: error while receiving request: EOF' : 'grpc: error unmarshalling request: unexpected EOF';
      answerStatus(stream, GrpcStatus.INTERNAL, why);
      return;
    }
    if (body[0] !== 0) {
      answerStatus(stream, GrpcStatus.INTERNAL, 'grpc: compressed flag set with identity or empty encoding');
      return;
    }
    const request = method.decode(body.subarray(FRAME_HEADER));
    const call = { request, metadata: callMetadata(headers) } as unknown as ServerUnaryCall<unknown, unknown>;
    method.handler(call, (err, res) => {
      if (err !== null && err !== undefined) {
        const status = err as { code?: number; details?: string; message?: string };
        answerStatus(stream, status.code ?? GrpcStatus.UNKNOWN, status.details ?? status.message ?? '');
        return;
      }
      answerMessage(stream, method.encode(res));
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
      if (def.requestStream || def.responseStream) continue;
      const handler = implementation[name];
      if (typeof handler !== 'function') continue;
      methods.set(def.path, {
        decode: def.requestDeserialize as (bytes: Buffer) => unknown,
        encode: def.responseSerialize as (res: unknown) => Buffer,
        handler: handler as handleUnaryCall<unknown, unknown>,
      });
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
    serve(stream, headers, method, maxReceiveBytes);
  };
  return stats;
}
