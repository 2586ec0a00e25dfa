/**
 * The gRPC API edge on our own HTTP/2 server (src/pkg/h2): each connection the client listener
 * hands over becomes an {@link H2ServerConnection}, and each request stream a call of one of
 * etcd's services (services.ts), run by the same handlers grpc-js would run.
 *
 * A unary call: unframe and decode the first request message, run the handler with a minimal
 * call object (`request`, `metadata`, `cancelled`), answer with headers, one message and
 * trailers. Streaming calls (Watch, LeaseKeepAlive, Maintenance.Snapshot) get an
 * {@link H2ServerCall}. Whatever this edge answers itself (a request that is not gRPC, an unknown
 * method, compression, malformed messages) is answered as etcd 3.4's grpc-go answers it: same
 * status code, same text, same HTTP/2 reset; the tests pin each against recorded etcd answers.
 */
import { Metadata, type handleBidiStreamingCall, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { GrpcStatus } from '../api/rpctypes/index.js';
import { H2Error } from '../pkg/h2/frames.js';
import { H2ServerConnection } from '../pkg/h2/h2-server-connection.js';
import type { H2Stream } from '../pkg/h2/h2-stream.js';
import { GRPC_OVERHEAD_BYTES, type EtcdServerApi } from '../server/server-api.js';
import { frameMessage } from './grpc-frames.js';
import { DEFAULT_MAX_CONCURRENT_STREAMS, serverKeepAlive, type GrpcServerOptions } from './grpc-server.js';
import {
  H2ServerCall,
  MessageReader,
  OK_TRAILER_BLOCK,
  grpcContentSubtype,
  respondStatusOnly,
  responseContentType,
  responseHeaderBlock,
  UnaryCallState,
  type MessageCodec,
  type StatusLike,
} from './h2-call.js';
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
  path: string | undefined;
  contentType: string | undefined;
  encoding: string | undefined;
  /** False when a grpc-timeout is there and grpc-go could not parse it. */
  timeoutValid: boolean;
  /** Whether a field the handlers read from metadata (the auth token) is present. */
  hasMetadata: boolean;
}

/**
 * Whether grpc-go parses `value` as a grpc-timeout: at most 8 digits (a sign allowed, as Go's
 * ParseInt does) and a unit of H, M, S, m, u or n. The edge sets no deadline of its own: a
 * client enforces its deadline by resetting the stream, which the handler sees as `cancelled`.
 */
function isValidTimeout(value: string): boolean {
  return /^[+-]?\d+[HMSmun]$/.test(value) && value.length <= 9;
}

// :method is not read: grpc-go (etcd 3.4's) serves any method as a gRPC POST.
function readHeaders(fields: string[]): RequestHeaders {
  const h: RequestHeaders = { path: undefined, contentType: undefined, encoding: undefined, timeoutValid: true, hasMetadata: false };
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    switch (name) {
      case ':path':
        h.path = fields[i + 1];
        break;
      case 'content-type':
        h.contentType = fields[i + 1];
        break;
      case 'grpc-encoding':
        h.encoding = fields[i + 1];
        break;
      case 'grpc-timeout':
        if (!isValidTimeout(fields[i + 1]!)) h.timeoutValid = false;
        break;
      case 'token':
      case 'authorization':
        h.hasMetadata = true;
        break;
    }
  }
  return h;
}

/**
 * The call's metadata as grpc-js would give it, every value of a repeated field kept in order
 * (etcd reads a token's first value); shared and empty when nothing a handler reads is there.
 */
function callMetadata(fields: string[], h: RequestHeaders): Metadata {
  if (!h.hasMetadata) return NO_METADATA;
  const md = new Metadata();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.startsWith(':')) continue;
    try {
      md.add(name, name.endsWith('-bin') ? Buffer.from(fields[i + 1]!, 'base64') : fields[i + 1]!);
    } catch {
      // A name grpc-js refuses as a metadata key; no handler reads such a field.
    }
  }
  return md;
}

/** A header value (HPACK strings arrive as latin1) as the text its UTF-8 octets spell. */
function octetsText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'latin1').toString('utf8');
}

/** The code point of the UTF-8 sequence at `i` of `octets` and its length, or undefined when invalid there. */
function utf8At(octets: string, i: number): [number, number] | undefined {
  const lead = octets.charCodeAt(i);
  const n = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > octets.length) return undefined;
  let c = lead & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const b = octets.charCodeAt(i + k);
    if ((b & 0xc0) !== 0x80) return undefined;
    c = (c << 6) | (b & 0x3f);
  }
  const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return undefined;
  return [c, n];
}

const GO_ESCAPES: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x22: '\\"', 0x5c: '\\\\' };

/**
 * A header value's octets (HPACK strings arrive as latin1) quoted as Go's %q verb quotes them
 * (strconv.Quote), as grpc-go quotes a path or an encoding in its texts: UTF-8 sequences kept,
 * other octets and control characters escaped.
 */
function goQuote(octets: string): string {
  let out = '"';
  for (let i = 0; i < octets.length; ) {
    const b = octets.charCodeAt(i);
    if (b < 0x80) {
      out += GO_ESCAPES[b] ?? (b < 0x20 || b === 0x7f ? `\\x${b.toString(16).padStart(2, '0')}` : octets[i]);
      i++;
      continue;
    }
    const rune = utf8At(octets, i);
    if (rune === undefined) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    const [c, n] = rune;
    out += c < 0xa0 ? `\\u${c.toString(16).padStart(4, '0')}` : String.fromCodePoint(c); // C1 controls are not printable
    i += n;
  }
  return `${out}"`;
}

/**
 * grpc-go's status for a path naming no method served here (Server.handleStream): the path less
 * one leading '/' splits at its last '/' into service and method; without a '/' it is malformed,
 * which grpc-go answers RESOURCE_EXHAUSTED.
 */
function unroutableStatus(path: string, services: ReadonlySet<string>): { code: number; details: string } {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const at = name.lastIndexOf('/');
  if (at === -1) return { code: GrpcStatus.RESOURCE_EXHAUSTED, details: `malformed method name: ${goQuote(path)}` };
  const service = octetsText(name.slice(0, at));
  if (!services.has(service)) return { code: GrpcStatus.UNIMPLEMENTED, details: `unknown service ${service}` };
  return { code: GrpcStatus.UNIMPLEMENTED, details: `unknown method ${octetsText(name.slice(at + 1))} for service ${service}` };
}

/**
 * A unary call, as grpc-go's processUnaryRPC serves it: the handler runs on the first whole
 * message (what follows it is ignored); an end of stream before one is UNKNOWN "EOF" (nothing
 * sent) or "unexpected EOF" (a message cut short).
 */
function serveUnary(stream: H2Stream, metadata: Metadata, method: Method & { kind: 'unary' }, maxReceiveBytes: number, contentType: string): void {
  const state = new UnaryCallState(metadata);
  let read = false;
  const reader = new MessageReader(
    maxReceiveBytes,
    (body) => {
      if (read) return;
      read = true;
      reader.stop();
      state.request = method.decode(body);
      method.handler(state as unknown as Parameters<typeof method.handler>[0], (err, res) => {
        if (stream.closed) return;
        if (err !== null && err !== undefined) {
          const status = err as StatusLike;
          respondStatusOnly(stream, status.code ?? GrpcStatus.UNKNOWN, status.details ?? status.message ?? '', contentType);
          return;
        }
        stream.respond(responseHeaderBlock(contentType));
        stream.write(method.frame(res));
        stream.end(OK_TRAILER_BLOCK);
      });
    },
    (code, details) => {
      read = true;
      respondStatusOnly(stream, code, details, contentType);
    },
  );
  stream.onData = (chunk) => reader.push(chunk);
  stream.onClose = (reset) => {
    if (reset) state.cancel();
  };
  stream.onEnd = () => {
    if (read) return;
    read = true;
    respondStatusOnly(stream, GrpcStatus.UNKNOWN, reader.partialBytes === 0 ? 'EOF' : 'unexpected EOF', contentType);
  };
}

/**
 * A server-streaming call (Maintenance.Snapshot): as grpc-go's generated handler, it reads one
 * request and starts; an end of stream before it is UNKNOWN "EOF" (the handler returns RecvMsg's
 * io.EOF), input after it is ignored.
 */
function serveServerStream(stream: H2Stream, metadata: Metadata, method: Method & { kind: 'server-stream' }, maxReceiveBytes: number, contentType: string): void {
  const call = new H2ServerCall(stream, metadata, method, maxReceiveBytes, contentType);
  let received = false;
  call.once('data', (req: unknown) => {
    received = true;
    call.stopReading();
    call.request = req;
    method.handler(call as unknown as Parameters<typeof method.handler>[0]);
  });
  call.once('end', () => {
    if (!received) call.emit('error', { code: GrpcStatus.UNKNOWN, details: 'EOF' });
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
  const services = new Set([...methods.keys()].map((path) => path.slice(1, path.lastIndexOf('/'))));
  const maxReceiveBytes = options.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const connections = new Set<H2ServerConnection>();
  const stats = { connections: 0, calls: 0 };
  const keepAlive = serverKeepAlive(options);

  // The checks run in grpc-go's order: header fields (a request that is not gRPC, or a timeout
  // that does not parse, is reset with PROTOCOL_ERROR as grpc-go's transport does), then the
  // method, then the request's compression, then its messages.
  const onStream = (stream: H2Stream, fields: string[]): void => {
    stats.calls++;
    const h = readHeaders(fields);
    const subtype = h.contentType === undefined ? undefined : grpcContentSubtype(h.contentType);
    if (subtype === undefined || !h.timeoutValid) return stream.reset(H2Error.PROTOCOL_ERROR);
    const contentType = responseContentType(subtype);
    const path = h.path ?? '';
    const method = methods.get(path);
    if (method === undefined) {
      const status = unroutableStatus(path, services);
      return respondStatusOnly(stream, status.code, status.details, contentType);
    }
    if (h.encoding !== undefined && h.encoding !== '' && h.encoding !== 'identity') {
      // etcd 3.4 registers no decompressor (not even gzip): every compressed request is refused.
      const text = `grpc: Decompressor is not installed for grpc-encoding ${goQuote(h.encoding)}`;
      return respondStatusOnly(stream, GrpcStatus.UNIMPLEMENTED, text, contentType);
    }
    const metadata = callMetadata(fields, h);
    switch (method.kind) {
      case 'unary':
        serveUnary(stream, metadata, method, maxReceiveBytes, contentType);
        return;
      case 'bidi': {
        const call = new H2ServerCall(stream, metadata, method, maxReceiveBytes, contentType);
        method.handler(call as unknown as Parameters<typeof method.handler>[0]);
        return;
      }
      case 'server-stream':
        serveServerStream(stream, metadata, method, maxReceiveBytes, contentType);
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
        keepAliveIntervalMs: keepAlive.intervalMs,
        keepAliveTimeoutMs: keepAlive.timeoutMs,
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
