/**
 * `GET /health` and `GET /version` on the client port, answering as etcd 3.4 does, byte for
 * byte: `{"health":"true"}` (200, text/plain) or `{"health":"false"}` plus a newline (503, as
 * Go's `http.Error` writes it); `{"etcdserver":"3.4.x","etcdcluster":"3.4.0"}` (application/json).
 * Other methods get 405 with `Allow: GET`; other paths go to `next` or get Go's 404. Being the
 * first handler of the client port, it answers every CORS preflight (OPTIONS) with 200, as
 * etcd's CORS wrapper does.
 */

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../../pkg/logger.js';
import { CLUSTER_VERSION_NOT_DECIDED, SERVER_VERSION } from '../../server/config/version.js';

/** What the handler needs from the server. */
export interface HealthSource {
  /** Whether this member can serve: it has a leader, no alarm, and answers a read in time. */
  isHealthy(): boolean | Promise<boolean>;
  /** The decided cluster version (`3.4.0`), or undefined before it is decided. */
  clusterVersion?(): string | undefined;
}

/** Options of {@link createHealthHandler}. */
export interface HealthHandlerOptions {
  /** Requests for other paths; without it they get a 404. */
  next?: RequestListener;
  /** Logs failed health checks at warn level, as etcd does. */
  logger?: Logger;
  /** Reported as `etcdserver` (default: our server version). */
  serverVersion?: string;
}

/**
 * Sets the CORS headers etcd's client handler adds to every response when all origins are
 * allowed (its default `--cors '*'`).
 */
export function setCorsHeaders(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS, PUT, DELETE');
  res.setHeader('Access-Control-Allow-Headers', 'accept, content-type, authorization');
}

/** Writes an error response the way Go's `http.Error` does: plain text plus a newline. */
export function writeGoError(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${text}\n`);
}

function allowOnlyGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET') return true;
  res.setHeader('Allow', 'GET');
  writeGoError(res, 405, 'Method Not Allowed');
  return false;
}

const HEALTHY = '{"health":"true"}';
const UNHEALTHY = '{"health":"false"}';

/** Creates the request listener for `/health` and `/version`. */
export function createHealthHandler(source: HealthSource, options: HealthHandlerOptions = {}): RequestListener {
  const serverVersion = options.serverVersion ?? SERVER_VERSION;
  return (req, res) => {
    if (req.method === 'OPTIONS') {
      // etcd's CORS handler answers every preflight itself, on any path, before routing.
      setCorsHeaders(res);
      req.resume();
      res.end();
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/health') {
      setCorsHeaders(res);
      if (!allowOnlyGet(req, res)) {
        options.logger?.warn('/health error', { 'status-code': 405 });
        return;
      }
      void checkHealth(source).then((healthy) => {
        if (healthy) {
          res.statusCode = 200;
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end(HEALTHY);
        } else {
          options.logger?.warn('/health error', { 'status-code': 503 });
          writeGoError(res, 503, UNHEALTHY);
        }
      });
      return;
    }
    if (path === '/version') {
      setCorsHeaders(res);
      if (!allowOnlyGet(req, res)) return;
      const body = JSON.stringify({ etcdserver: serverVersion, etcdcluster: source.clusterVersion?.() ?? CLUSTER_VERSION_NOT_DECIDED });
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.end(body);
      return;
    }
    if (options.next !== undefined) {
      options.next(req, res);
      return;
    }
    setCorsHeaders(res);
    writeGoError(res, 404, '404 page not found');
  };
}

/** A check that throws counts as unhealthy. */
async function checkHealth(source: HealthSource): Promise<boolean> {
  try {
    return (await source.isHealthy()) === true;
  } catch {
    return false;
  }
}
