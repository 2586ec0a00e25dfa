/**
 * etcd 3.4's v3 JSON gateway on the client port: `POST /v3/<service>/<method>` with a JSON body,
 * answered with the JSON of the gRPC response, or with grpc-gateway's error body
 * `{"error":text,"message":text,"code":grpcCode}` and the HTTP status grpc-gateway maps the code
 * to. Unknown `/v3/` paths get `Not Found`, other methods on a known path `Method Not Allowed`
 * (plain text, as grpc-gateway's mux writes them). `/v3beta/` is the same gateway (etcd 3.4
 * rewrites it to `/v3/` before routing). This is the last handler of the client port, so it
 * also answers what Go's ServeMux answers for any path: a 301 to the clean form of a path with
 * `..`, `.` or `//` segments, and Go's 404 for paths outside the gateway (or `next`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { GrpcStatus, RpcError } from '../../api/rpctypes/index.js';
import type { Logger } from '../../pkg/logger.js';
import type { RequestMetadata } from '../../server/auth-api.js';
import { GRPC_OVERHEAD_BYTES, type EtcdServerApi } from '../../server/server-api.js';
import { cleanUrlPath, unescapeUrlPath, writeBadRequestPath, writeMovedPermanently } from '../health/go-serve-mux.js';
import { setCorsHeaders, writeGoError } from '../health/health-handler.js';
import { decodeGoJsonBody } from './exact-json.js';
import { KEEPALIVE_PATH, serveKeepAlive } from './gateway-keepalive.js';
import { buildGatewayRoutes, type GatewayRoute } from './gateway-routes.js';
import { serveWatch, WATCH_PATH } from './gateway-watch.js';
import { gatewayErrorBody, httpStatusOfGrpcCode } from './grpc-http-status.js';
import { JsonMappingError, messageFromJson, messageToJson } from './json-mapper.js';

export { gatewayErrorBody, httpStatusOfGrpcCode } from './grpc-http-status.js';

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** Requests outside `/v3/`; without it they get Go's 404. */
  readonly next?: RequestListener;
  readonly logger?: Logger;
}

const PREFIX = '/v3/';
/** etcd 3.4 still serves its 3.3 gateway prefix, by rewriting it to /v3/. */
const BETA_PREFIX = '/v3beta/';
/**
 * The most body text read for one request: four times grpc-go's receive limit, and at least
 * 64 MiB. The size that counts (as in etcd, whose gateway hands the decoded request to gRPC) is
 * the decoded request's; this only bounds memory, with room for base64 (4/3 of the bytes it
 * carries), names and quotes, so a request well over the limit still gets etcd's answer with
 * its decoded size.
 */
const BODY_TEXT_FACTOR = 4;
const MIN_BODY_TEXT = 64 << 20;

/**
 * Writes an error. A failed call also carries the gRPC trailer grpc-gateway forwards; a body the
 * gateway could not decode never reached gRPC and has none.
 */
function writeError(res: ServerResponse, code: number, text: string, fromCall: boolean): void {
  res.statusCode = httpStatusOfGrpcCode(code);
  res.setHeader('Content-Type', 'application/json');
  if (fromCall) {
    res.setHeader('Trailer', 'Grpc-Trailer-Content-Type');
    res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
  }
  res.end(gatewayErrorBody(code, text));
}

/**
 * The gRPC metadata grpc-gateway forwards from the request's headers, as far as the member reads
 * it: `Authorization` as `authorization`, and `Grpc-Metadata-<Key>` as `<key>` (the auth token).
 */
function metadataOf(req: IncomingMessage): RequestMetadata {
  return {
    get(key: string): readonly unknown[] {
      const h = key === 'authorization' ? req.headers.authorization : req.headers[`grpc-metadata-${key}`];
      if (h === undefined) return [];
      return Array.isArray(h) ? h : [h];
    },
  };
}

/** grpc-go's text for a message over the server's receive limit. */
function tooLargeText(size: number, limit: number): string {
  return `grpc: received message larger than max (${size} vs. ${limit})`;
}

/**
 * Reads the body as text; resolves undefined (after draining the rest, without keeping it) when
 * it is longer than `limit` bytes, so a huge POST cannot exhaust memory.
 */
function readBody(req: IncomingMessage, limit: number): Promise<{ text: string | undefined; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve({ text: size > limit ? undefined : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'), size }));
    req.on('error', reject);
  });
}

/** Creates the request listener serving etcd's `/v3/` JSON gateway over `api`. */
export function createGatewayHandler(api: EtcdServerApi, options: GatewayHandlerOptions = {}): RequestListener {
  const routes = buildGatewayRoutes();
  const paths = new Set([...routes.keys()].map((r) => r.slice(r.indexOf(' ') + 1)));
  paths.add(WATCH_PATH);
  paths.add(KEEPALIVE_PATH);
  // grpc-go's receive limit, which etcd's gateway requests meet on their way to the server.
  const maxReceive = api.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const maxBodyText = Math.max(BODY_TEXT_FACTOR * maxReceive, MIN_BODY_TEXT);

  async function serveUnary(route: GatewayRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, maxBodyText);
    if (body.text === undefined) {
      writeError(res, GrpcStatus.RESOURCE_EXHAUSTED, tooLargeText(body.size, maxReceive), true);
      return;
    }
    let request: object;
    const decoded = decodeGoJsonBody(body.text);
    if (!decoded.ok) {
      writeError(res, GrpcStatus.INVALID_ARGUMENT, decoded.message, false);
      return;
    }
    try {
      request = messageFromJson(route.requestType, decoded.value ?? null);
    } catch (err) {
      if (!(err instanceof JsonMappingError)) throw err;
      writeError(res, GrpcStatus.INVALID_ARGUMENT, err.message, false);
      return;
    }
    // The decoded request meets grpc-go's limit. A JSON body is never less than half its
    // protobuf size, so small bodies skip the encoding.
    if (body.text.length * 2 > maxReceive) {
      const size = route.requestCodec.encode(request as never).length;
      if (size > maxReceive) {
        writeError(res, GrpcStatus.RESOURCE_EXHAUSTED, tooLargeText(size, maxReceive), true);
        return;
      }
    }
    try {
      const pending = route.invoke(api, request, metadataOf(req));
      if (pending === undefined) {
        writeError(res, GrpcStatus.UNIMPLEMENTED, `unknown service ${route.method.split('/')[1]}`, true);
        return;
      }
      const response = await pending;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
      res.end(messageToJson(route.responseType, response));
    } catch (err) {
      if (err instanceof RpcError) {
        writeError(res, err.status, err.message, true);
      } else if (err instanceof JsonMappingError) {
        writeError(res, GrpcStatus.INVALID_ARGUMENT, err.message, false);
      } else {
        const text = err instanceof Error ? err.message : String(err);
        options.logger?.error('unexpected error serving gateway request', { method: route.method, error: text });
        writeError(res, GrpcStatus.UNKNOWN, text, true);
      }
    }
  }

  function serveStream(path: string, req: IncomingMessage, res: ServerResponse): void {
    if (path === WATCH_PATH) {
      if (api.watch === undefined) {
        writeError(res, GrpcStatus.UNIMPLEMENTED, 'unknown service etcdserverpb.Watch', true);
        return;
      }
      serveWatch(api.watch, req, res, { maxRequestBytes: api.limits.maxRequestBytes, maxValueBytes: maxReceive, auth: api.auth, metadata: metadataOf(req) });
      return;
    }
    if (api.lease === undefined) {
      writeError(res, GrpcStatus.UNIMPLEMENTED, 'unknown service etcdserverpb.Lease', true);
      return;
    }
    serveKeepAlive(api.lease, req, res, maxReceive);
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    let path = unescapeUrlPath(rawPath);
    if (path === undefined) {
      writeBadRequestPath(res);
      return;
    }
    setCorsHeaders(res);
    if (path.startsWith(BETA_PREFIX)) path = PREFIX + path.slice(BETA_PREFIX.length);
    const clean = path === '/v3' ? PREFIX : cleanUrlPath(path);
    if (clean !== path) {
      writeMovedPermanently(res, req.method, q < 0 ? clean : `${clean}${url.slice(q)}`);
      return;
    }
    if (!path.startsWith(PREFIX)) {
      if (options.next !== undefined) {
        options.next(req, res);
        return;
      }
      writeGoError(res, 404, '404 page not found');
      return;
    }
    const fail = (err: unknown): void => {
      options.logger?.error('unexpected error serving gateway request', { path, error: err });
      if (!res.headersSent) writeError(res, GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err), true);
      else res.end();
    };
    if (req.method === 'POST' && (path === WATCH_PATH || path === KEEPALIVE_PATH)) {
      try {
        serveStream(path, req, res);
      } catch (err) {
        fail(err);
      }
      return;
    }
    const route = routes.get(`${req.method ?? ''} ${path}`);
    if (route === undefined) {
      req.resume();
      if (paths.has(path)) writeGoError(res, 405, 'Method Not Allowed');
      else writeGoError(res, 404, 'Not Found');
      return;
    }
    serveUnary(route, req, res).catch(fail);
  };
}
