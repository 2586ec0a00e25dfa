/**
 * etcd 3.4's v3 JSON gateway on the client port: `POST /v3/<service>/<method>` with a JSON body,
 * answered with the JSON of the gRPC response, or with grpc-gateway's error body
 * `{"error":text,"message":text,"code":grpcCode}` and the HTTP status grpc-gateway maps the code
 * to. Unknown `/v3/` paths get `Not Found`, other methods on a known path `Method Not Allowed`
 * (plain text, as grpc-gateway's mux writes them); paths outside `/v3/` go to `next`.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { GrpcStatus, RpcError } from '../../api/rpctypes/index.js';
import type { Logger } from '../../pkg/logger.js';
import { GRPC_OVERHEAD_BYTES, type EtcdServerApi } from '../../server/server-api.js';
import { setCorsHeaders, writeGoError } from '../health/health-handler.js';
import { parseJsonExact } from './exact-json.js';
import { KEEPALIVE_PATH, serveKeepAlive } from './gateway-keepalive.js';
import { buildGatewayRoutes } from './gateway-routes.js';
import { JsonMappingError, messageFromJson, messageToJson } from './json-mapper.js';

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** Requests outside `/v3/`; without it they get Go's 404. */
  readonly next?: RequestListener;
  readonly logger?: Logger;
}

const PREFIX = '/v3/';

/** grpc-gateway v1's HTTPStatusFromCode. */
export function httpStatusOfGrpcCode(code: number): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.CANCELLED:
      return 408;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
      return 409;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.UNIMPLEMENTED:
      return 501;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

/** grpc-gateway's error body for a status (jsonpb: empty text is left out). */
export function gatewayErrorBody(code: number, text: string): string {
  return text === '' ? `{"code":${code}}` : `{"error":${JSON.stringify(text)},"message":${JSON.stringify(text)},"code":${code}}`;
}

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

/** A request body over the size the gRPC server would accept. */
class BodyTooLargeError extends Error {}

/**
 * Reads the body, refusing (without buffering the rest) one larger than `limit` bytes, so a huge
 * POST cannot exhaust memory; the text matches what grpc-go answers for an oversized message.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => {
      if (size > limit) reject(new BodyTooLargeError(`grpc: received message larger than max (${size} vs. ${limit})`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Creates the request listener serving etcd's `/v3/` JSON gateway over `api`. */
export function createGatewayHandler(api: EtcdServerApi, options: GatewayHandlerOptions = {}): RequestListener {
  const routes = buildGatewayRoutes();
  const paths = new Set([...routes.keys()].map((r) => r.slice(r.indexOf(' ') + 1)));
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (!path.startsWith(PREFIX)) {
      if (options.next !== undefined) {
        options.next(req, res);
        return;
      }
      setCorsHeaders(res);
      writeGoError(res, 404, '404 page not found');
      return;
    }
    setCorsHeaders(res);
    if (path === KEEPALIVE_PATH && req.method === 'POST') {
      void (async () => {
        let body: string;
        try {
          body = await readBody(req, api.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES);
        } catch (err) {
          writeError(res, GrpcStatus.RESOURCE_EXHAUSTED, err instanceof Error ? err.message : String(err), true);
          return;
        }
        await serveKeepAlive(api, body, res, (code, text) => writeError(res, code, text, false));
      })();
      return;
    }
    const route = routes.get(`${req.method ?? ''} ${path}`);
    if (route === undefined) {
      if (paths.has(path)) writeGoError(res, 405, 'Method Not Allowed');
      else writeGoError(res, 404, 'Not Found');
      return;
    }
    void (async () => {
      let request: unknown;
      try {
        const body = await readBody(req, api.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES);
        request = messageFromJson(route.requestType, body.trim() === '' ? null : parseJsonExact(body));
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          writeError(res, GrpcStatus.RESOURCE_EXHAUSTED, err.message, true);
          return;
        }
        writeError(res, GrpcStatus.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err), false);
        return;
      }
      try {
        const pending = route.invoke(api, request);
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
    })();
  };
}
