/**
 * etcd 3.4's v2 HTTP API on the client port (etcdserver/api/v2http): `/v2/keys` (GET, PUT, POST,
 * DELETE, HEAD, long-poll and streamed watches), `/v2/members`, `/v2/machines` and `/v2/stats/*`,
 * with etcd's bodies, statuses and headers byte for byte. Requests for other paths go to `next`.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isRpcError } from '../../api/rpctypes/index.js';
import type { Logger } from '../../pkg/logger.js';
import { formatId } from '../../server/config/ids.js';
import { encodeClientEvent, encodeV2Error, newV2Error, V2ErrorCode, v2ErrorStatus, type V2Error, type V2Event } from '../../server/v2-server.js';
import { cleanUrlPath, unescapeUrlPath, writeBadRequestPath, writeMovedPermanently } from '../health/go-serve-mux.js';
import { setCorsHeaders, writeGoError } from '../health/health-handler.js';
import { MAX_FORM_BYTES } from './go-form.js';
import { KEYS_PREFIX, parseKeyRequest, STORE_KEYS_PREFIX } from './key-request.js';
import { parseMemberRequestBody } from './member-request.js';
import type { V2Member, V2Source } from './v2-source.js';
import { leaderStatsJson, selfStatsJson } from './v2-stats-json.js';

/** Options of {@link createV2Handler}. */
export interface V2HandlerOptions {
  /** Requests for other paths; without it they get Go's 404. */
  readonly next?: RequestListener;
  readonly logger?: Logger;
  /** Wall clock in ms (stats times); default Date.now. */
  readonly now?: () => number;
}

/** etcd's CORS headers (see setCorsHeaders), as a flat list for writeHead. */
const CORS_HEADERS: readonly string[] = [
  'Access-Control-Allow-Origin',
  '*',
  'Access-Control-Allow-Methods',
  'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers',
  'accept, content-type, authorization',
];

/** How long a watch may stay open (etcd's defaultWatchTimeout). */
const WATCH_TIMEOUT_MS = 5 * 60 * 1000;
const MEMBERS_PREFIX = '/v2/members';

function allowMethod(res: ServerResponse, method: string, allowed: readonly string[]): boolean {
  if (allowed.includes(method)) return true;
  res.setHeader('Allow', allowed.join(','));
  writeGoError(res, 405, 'Method Not Allowed');
  return false;
}

/** An httptypes.HTTPError: `{"message":...}` without a newline. */
function writeHttpError(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ message }));
}

function writeV2Error(res: ServerResponse, err: V2Error): void {
  res.setHeader('X-Etcd-Index', String(err.index));
  res.setHeader('Content-Type', 'application/json');
  res.statusCode = v2ErrorStatus(err.errorCode);
  res.end(`${encodeV2Error(err)}\n`);
}

/** etcd trims the store's "/1" from an error's cause before sending it. */
function trimCause(err: V2Error): V2Error {
  return err.cause.startsWith(STORE_KEYS_PREFIX) ? { ...err, cause: err.cause.slice(STORE_KEYS_PREFIX.length) } : err;
}

function readBody(req: IncomingMessage, limit: number): Promise<{ body: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve({ body: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
    req.on('error', reject);
  });
}

function isFormContentType(req: IncomingMessage): boolean {
  const ct = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return ct === 'application/x-www-form-urlencoded';
}

function memberJson(m: V2Member): string {
  return JSON.stringify({ id: formatId(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls });
}

/** The event body etcd sends; with noValueOnSuccess a write shows only its action. */
function eventBody(e: V2Event, noValue: boolean): string {
  if (noValue && (e.action === 'set' || e.action === 'compareAndSwap' || e.action === 'create' || e.action === 'update')) {
    return `{"action":"${e.action}"}\n`;
  }
  return `${encodeClientEvent(e, STORE_KEYS_PREFIX)}\n`;
}

/** Creates the v2 API's request listener; see the file comment. */
export function createV2Handler(source: V2Source, options: V2HandlerOptions): RequestListener {
  const now = options.now ?? Date.now;
  const startTime = now();
  const clusterId = formatId(source.clusterId);
  const next: RequestListener =
    options.next ??
    ((_req, res) => {
      setCorsHeaders(res);
      writeGoError(res, 404, '404 page not found');
    });

  async function serveKeys(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): Promise<void> {
    const method = req.method ?? 'GET';
    // Answers other than a plain event set their headers one by one; see writeEvent.
    const slowHeaders = (): void => {
      setCorsHeaders(res);
      res.setHeader('X-Etcd-Cluster-ID', clusterId);
    };
    if (method !== 'PUT' && method !== 'GET' && method !== 'POST' && method !== 'DELETE' && method !== 'HEAD') {
      setCorsHeaders(res);
      allowMethod(res, method, ['HEAD', 'GET', 'PUT', 'POST', 'DELETE']);
      return;
    }
    let body = '';
    let bodyError: string | undefined;
    // Go's ParseForm reads a url-encoded body of PUT and POST only.
    if ((method === 'PUT' || method === 'POST') && isFormContentType(req)) {
      const b = await readBody(req, MAX_FORM_BYTES);
      if (b.tooLarge) bodyError = 'http: POST too large';
      body = b.body;
    } else {
      req.resume();
    }
    const parsed = parseKeyRequest(method, path, rawQuery, body, bodyError, source.expirationFor);
    if (!parsed.ok) {
      slowHeaders();
      writeV2Error(res, parsed.error);
      return;
    }
    let resp;
    try {
      resp = await source.do(parsed.req);
    } catch (err) {
      const cause = isRpcError(err) ? err.message : err instanceof Error ? err.message : String(err);
      options.logger?.warn('v2 request failed', { error: cause });
      slowHeaders();
      writeV2Error(res, newV2Error(V2ErrorCode.RaftInternal, cause, 0));
      return;
    }
    if (!resp.ok) {
      slowHeaders();
      writeV2Error(res, trimCause(resp.error));
      return;
    }
    if (resp.event !== undefined) {
      const e = resp.event;
      const status = e.action === 'create' || (e.action === 'set' && e.prevNode === undefined) ? 201 : 200;
      const out = eventBody(e, parsed.noValueOnSuccess);
      // The hot path (every v2 read and write): all headers in one writeHead, no header map.
      res.writeHead(status, [
        ...CORS_HEADERS,
        'X-Etcd-Cluster-ID',
        clusterId,
        'Content-Type',
        'application/json',
        'X-Etcd-Index',
        String(e.etcdIndex),
        'X-Raft-Index',
        String(resp.raftIndex),
        'X-Raft-Term',
        String(resp.raftTerm),
        'Content-Length',
        String(Buffer.byteLength(out)),
      ]);
      res.end(out);
      return;
    }
    slowHeaders();
    const w = resp.watcher;
    const stream = parsed.req.Stream === true;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Etcd-Index', String(w.startIndex));
    res.setHeader('X-Raft-Index', String(resp.raftIndex));
    res.setHeader('X-Raft-Term', String(resp.raftTerm));
    res.statusCode = 200;
    res.flushHeaders();
    const done = (): void => {
      clearTimeout(timer);
      w.remove();
      if (!res.writableEnded) res.end();
    };
    const timer = setTimeout(done, WATCH_TIMEOUT_MS);
    res.on('close', done);
    w.listen((e) => {
      if (res.writableEnded) return;
      res.write(`${encodeClientEvent(e, STORE_KEYS_PREFIX)}\n`);
      if (!stream) queueMicrotask(done);
    });
    if (w.closed && w.pending === 0) done();
  }

  async function serveMembers(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (!allowMethod(res, method, ['GET', 'POST', 'DELETE', 'PUT'])) return;
    res.setHeader('X-Etcd-Cluster-ID', clusterId);
    const rest = path.slice(MEMBERS_PREFIX.length).replace(/^\//, '');
    if (method === 'GET') {
      if (rest === '') {
        res.setHeader('Content-Type', 'application/json');
        res.end(`{"members":[${source.members().map(memberJson).join(',')}]}\n`);
      } else if (rest === 'leader') {
        const m = source.members().find((x) => x.id === source.leader());
        if (m === undefined) return writeHttpError(res, 503, 'During election');
        res.setHeader('Content-Type', 'application/json');
        res.end(`${memberJson(m)}\n`);
      } else {
        writeHttpError(res, 404, 'Not found');
      }
      return;
    }
    let id = 0n;
    if (method !== 'POST') {
      if (rest === '') return writeGoError(res, 405, 'Method Not Allowed');
      if (!/^[0-9a-fA-F]{1,16}$/.test(rest)) return writeHttpError(res, 404, `No such member: ${rest}`);
      id = BigInt(`0x${rest}`);
    }
    let peerURLs: string[] = [];
    if (method !== 'DELETE') {
      const ct = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim();
      if (ct !== 'application/json') {
        req.resume();
        return writeHttpError(res, 415, `Bad Content-Type ${ct}, accept application/json`);
      }
      const { body } = await readBody(req, MAX_FORM_BYTES);
      const parsed = parseMemberRequestBody(body);
      if (!parsed.ok) return writeHttpError(res, 400, parsed.message);
      peerURLs = parsed.peerURLs;
    } else {
      req.resume();
    }
    try {
      if (method === 'POST') {
        const r = await source.memberAdd({ peerURLs, isLearner: false });
        res.setHeader('Content-Type', 'application/json');
        res.statusCode = 201;
        const m = r.member;
        res.end(`${memberJson({ id: m?.ID ?? 0n, name: '', peerUrls: peerURLs, clientUrls: [] })}\n`);
      } else if (method === 'DELETE') {
        await source.memberRemove({ ID: id });
        res.statusCode = 204;
        res.end();
      } else {
        await source.memberUpdate({ ID: id, peerURLs });
        res.statusCode = 204;
        res.end();
      }
    } catch (err) {
      if (isRpcError(err, 'member-exist') || isRpcError(err, 'peer-url-exist')) return writeHttpError(res, 409, err.message.replace(/^etcdserver: /, 'membership: '));
      if (isRpcError(err, 'member-not-found')) return writeHttpError(res, 404, `No such member: ${formatId(id)}`);
      options.logger?.warn('v2 members request failed', { error: err });
      writeHttpError(res, 500, 'Internal Server Error');
    }
  }

  function selfStats(): string {
    const stats = source.stats;
    const leader = stats.leader;
    const state = source.isLeader() ? 'StateLeader' : leader === 0n ? 'StateCandidate' : 'StateFollower';
    return selfStatsJson({ name: source.name, id: source.memberId, state, startTimeMs: startTime, leader, leaderSinceMs: leader === 0n ? startTime : stats.leaderSinceMs, nowMs: now() }, stats);
  }

  function leaderStats(): string {
    const followers = source.members().map((m) => m.id).filter((id) => id !== source.memberId);
    return leaderStatsJson(source.memberId, followers, source.stats);
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    if (!rawPath.startsWith('/v2/')) {
      next(req, res);
      return;
    }
    const path = unescapeUrlPath(rawPath);
    if (path === undefined) {
      writeBadRequestPath(res);
      return;
    }
    const clean = cleanUrlPath(path);
    if (clean !== path) {
      setCorsHeaders(res);
      writeMovedPermanently(res, req.method, q < 0 ? clean : `${clean}?${rawQuery}`);
      return;
    }
    const fail = (err: unknown): void => {
      options.logger?.warn('v2 request failed', { error: err });
      if (!res.headersSent) {
        setCorsHeaders(res);
        writeHttpError(res, 500, 'Internal Server Error');
      } else {
        res.end();
      }
    };
    if (path === KEYS_PREFIX || path.startsWith(`${KEYS_PREFIX}/`)) {
      serveKeys(req, res, path, rawQuery).catch(fail);
      return;
    }
    setCorsHeaders(res);
    if (path === MEMBERS_PREFIX || path.startsWith(`${MEMBERS_PREFIX}/`)) {
      serveMembers(req, res, path).catch(fail);
      return;
    }
    if (path === '/v2/machines') {
      if (!allowMethod(res, req.method ?? 'GET', ['GET', 'HEAD'])) return;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(
        source
          .members()
          .flatMap((m) => m.clientUrls)
          .sort()
          .join(', '),
      );
      return;
    }
    if (path === '/v2/stats/store' || path === '/v2/stats/self' || path === '/v2/stats/leader') {
      if (!allowMethod(res, req.method ?? 'GET', ['GET'])) return;
      res.setHeader('Content-Type', 'application/json');
      if (path === '/v2/stats/store') res.end(source.storeStatsJson());
      else if (path === '/v2/stats/self') res.end(selfStats());
      else if (!source.isLeader()) writeHttpError(res, 403, 'not current leader');
      else res.end(leaderStats());
      return;
    }
    next(req, res);
  };
}
