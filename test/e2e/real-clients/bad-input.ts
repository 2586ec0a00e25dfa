/**
 * Bad input for the v2 API and the v3 JSON gateway that `v2-api.test.ts` and `gateway.test.ts`
 * do not send: malformed forms, non-numeric numbers, a 10 MB body, paths with `..` and odd
 * percent encodings. Sent with node:http, not fetch, because fetch's URL parser would resolve
 * `..` and `%2e%2e` before they reach the server. Each request is followed by a normal one, whose
 * status shows the server kept serving.
 */
import { request } from 'node:http';

/** One bad request. `body` is sent as is (a Buffer for the large ones). */
export interface BadInputRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string | Buffer;
  readonly contentType?: string;
  /** Which API it hits: decides the normal request sent after it. */
  readonly api: 'v2' | 'gateway';
}

/** What came back: the answer (or the socket error) and the status of the normal request after. */
export interface BadInputAnswer {
  readonly status?: number;
  readonly contentType?: string;
  readonly body?: string;
  readonly error?: string;
  readonly nextStatus: number | string;
}

const FORM = 'application/x-www-form-urlencoded';
const TEN_MB = 10 << 20;

const v2 = (name: string, method: string, path: string, body?: string | Buffer, contentType = FORM): BadInputRequest => ({
  name: `v2: ${name}`,
  method,
  path,
  body,
  contentType: body === undefined ? undefined : contentType,
  api: 'v2',
});

const JSON_TYPE = 'application/json';

const gw = (name: string, path: string, body: string | Buffer, contentType = 'application/json'): BadInputRequest => ({
  name: `gateway: ${name}`,
  method: 'POST',
  path,
  body,
  contentType,
  api: 'gateway',
});

/** Bad requests for the v2 API, in order (the first creates the key the others touch). */
export const BAD_V2_REQUESTS: readonly BadInputRequest[] = [
  v2('a normal write first', 'PUT', '/v2/keys/k', 'value=v'),
  v2('form without =', 'PUT', '/v2/keys/k', 'value'),
  v2('form of separators only', 'PUT', '/v2/keys/k', '=&&=&'),
  v2('value given twice', 'PUT', '/v2/keys/k', 'value=a&value=b'),
  v2('truncated percent escape in form', 'PUT', '/v2/keys/k', 'value=%'),
  v2('ttl not a number on POST', 'POST', '/v2/keys/q', 'value=v&ttl=1x'),
  v2('ttl huge', 'PUT', '/v2/keys/k', 'value=v&ttl=99999999999999999999'),
  v2('ttl fractional', 'PUT', '/v2/keys/k', 'value=v&ttl=1.5'),
  v2('prevIndex negative', 'PUT', '/v2/keys/k?prevIndex=-1', 'value=v'),
  v2('prevIndex not a number in form', 'PUT', '/v2/keys/k', 'value=v&prevIndex=abc'),
  v2('waitIndex negative', 'GET', '/v2/keys/k?wait=true&waitIndex=-5'),
  v2('waitIndex huge', 'GET', '/v2/keys/k?wait=true&waitIndex=99999999999999999999'),
  v2('dir not a boolean', 'PUT', '/v2/keys/d', 'dir=yes'),
  v2('sorted not a boolean', 'GET', '/v2/keys/?sorted=2'),
  v2('10 MB value', 'PUT', '/v2/keys/big', Buffer.concat([Buffer.from('value='), Buffer.alloc(TEN_MB, 'a')])),
  v2('path with ..', 'GET', '/v2/keys/a/../k'),
  v2('path with encoded ..', 'GET', '/v2/keys/a/%2e%2e/k'),
  v2('write through ..', 'PUT', '/v2/keys/a/../../k2', 'value=v'),
  v2('encoded slash', 'PUT', '/v2/keys/a%2Fb', 'value=v'),
  v2('encoded NUL', 'PUT', '/v2/keys/nul%00x', 'value=v'),
  v2('bad percent escape in path', 'GET', '/v2/keys/%zz'),
  v2('truncated percent escape in path', 'GET', '/v2/keys/k%'),
  v2('double slashes', 'GET', '/v2/keys//k'),
  v2('bad percent escape in query', 'GET', '/v2/keys/k?recursive=%zz'),
  v2('encoded path segment', 'GET', '/v2/%6beys/k'),
  v2('CORS preflight', 'OPTIONS', '/v2/keys/k'),
  // Member requests that fail before anything is proposed (a real add would cost the quorum).
  v2('member add: malformed JSON', 'POST', '/v2/members', '{bad', JSON_TYPE),
  v2('member add: empty body', 'POST', '/v2/members', '', JSON_TYPE),
  v2('member add: truncated JSON', 'POST', '/v2/members', '{"peerURLs":["http://127.0.0.1:1"]', JSON_TYPE),
  v2('member add: data after the JSON', 'POST', '/v2/members', '{"peerURLs":["http://127.0.0.1:1"]}x', JSON_TYPE),
  v2('member add: peerURLs not a list', 'POST', '/v2/members', '{"peerURLs":"http://127.0.0.1:1"}', JSON_TYPE),
  v2('member add: a peer URL not a string', 'POST', '/v2/members', '{"peerURLs":[1]}', JSON_TYPE),
  v2('member add: a list body', 'POST', '/v2/members', '[]', JSON_TYPE),
  v2('member add: no peerURLs', 'POST', '/v2/members', '{}', JSON_TYPE),
  v2('member add: URL without scheme', 'POST', '/v2/members', '{"peerURLs":["127.0.0.1:1"]}', JSON_TYPE),
  v2('member add: URL without port', 'POST', '/v2/members', '{"peerURLs":["http://127.0.0.1"]}', JSON_TYPE),
  v2('member add: URL with a path', 'POST', '/v2/members', '{"peerURLs":["http://127.0.0.1:1/x"]}', JSON_TYPE),
  v2('member add: form content type', 'POST', '/v2/members', 'peerURLs=http://127.0.0.1:1'),
  v2('member update: malformed JSON', 'PUT', '/v2/members/1234', '{bad', JSON_TYPE),
  v2('member update: wrong type', 'PUT', '/v2/members/1234', '{"peerURLs":true}', JSON_TYPE),
];

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Bad requests for the v3 JSON gateway, in order. */
export const BAD_GATEWAY_REQUESTS: readonly BadInputRequest[] = [
  gw('truncated JSON', '/v3/kv/put', '{"key":"Zm9v",'),
  gw('JSON of the wrong type', '/v3/kv/put', '"key"'),
  gw('key not base64', '/v3/kv/range', '{"key":"***"}'),
  gw('revision not a number', '/v3/kv/range', JSON.stringify({ key: b64('foo'), revision: 'abc' })),
  gw('limit negative string', '/v3/kv/range', JSON.stringify({ key: b64('foo'), limit: '-1' })),
  gw('lease ID not a number', '/v3/lease/timetolive', '{"ID":"x"}'),
  gw('TTL fractional', '/v3/lease/grant', '{"TTL":1.5}'),
  gw('unknown field', '/v3/kv/range', JSON.stringify({ key: b64('foo'), nope: 1 })),
  gw('form body', '/v3/kv/range', 'key=foo', FORM),
  gw('empty body', '/v3/kv/range', ''),
  gw('whitespace body', '/v3/kv/range', ' \n '),
  gw('data after the JSON', '/v3/kv/range', `${JSON.stringify({ key: b64('foo') })}x`),
  gw('JSON list', '/v3/kv/range', '[]'),
  gw('bad key after object key', '/v3/kv/range', '{"key" "Zm9v"}'),
  gw('bad literal', '/v3/kv/range', '{"key":"Zm9v","keys_only":tru}'),
  gw('bad escape', '/v3/kv/range', '{"key":"\\q"}'),
  gw('bytes field a number', '/v3/kv/range', '{"key":1}'),
  gw('bool field a string', '/v3/kv/range', JSON.stringify({ key: b64('foo'), keys_only: 'true' })),
  gw('int64 field with exponent', '/v3/kv/range', JSON.stringify({ key: b64('foo') }).replace('}', ',"limit":1e2}')),
  gw('int64 field fractional string', '/v3/kv/range', JSON.stringify({ key: b64('foo'), limit: '1.5' })),
  gw('int64 field out of range', '/v3/kv/range', JSON.stringify({ key: b64('foo') }).replace('}', ',"revision":99999999999999999999}')),
  gw('enum unknown name', '/v3/kv/range', JSON.stringify({ key: b64('foo'), sort_target: 'NOPE' })),
  gw('nested message not an object', '/v3/kv/txn', JSON.stringify({ success: [{ request_put: 'x' }] })),
  gw('1.6 MB value (over --max-request-bytes)', '/v3/kv/put', Buffer.from(JSON.stringify({ key: b64('big'), value: Buffer.alloc(1600 * 1000, 'a').toString('base64') }))),
  gw('10 MB value', '/v3/kv/put', Buffer.from(JSON.stringify({ key: b64('big'), value: Buffer.alloc(TEN_MB, 'a').toString('base64') }))),
  gw('path with ..', '/v3/kv/../kv/range', JSON.stringify({ key: b64('foo') })),
  gw('encoded path', '/v3/kv/%72ange', JSON.stringify({ key: b64('foo') })),
  gw('encoded slash in path', '/v3/kv%2Frange', JSON.stringify({ key: b64('foo') })),
  gw('double slash in path', '/v3//kv/range', JSON.stringify({ key: b64('foo') })),
  gw('bad escape in path', '/v3/kv/range%zz', JSON.stringify({ key: b64('foo') })),
  gw('v3beta prefix', '/v3beta/kv/range', JSON.stringify({ key: b64('foo') })),
  gw('v3beta prefix with ..', '/v3beta/kv/../kv/range', JSON.stringify({ key: b64('foo') })),
  gw('v3alpha prefix', '/v3alpha/kv/range', JSON.stringify({ key: b64('foo') })),
  gw('v3 without slash', '/v3', '{}'),
  gw('unknown v3 path', '/v3/kv/nope', '{}'),
  gw('auth while disabled', '/v3/auth/user/get', JSON.stringify({ name: 'nobody' })),
  gw('keepalive: malformed first request', '/v3/lease/keepalive', '{bad'),
  gw('keepalive: empty body', '/v3/lease/keepalive', ''),
  gw('watch: malformed first request', '/v3/watch', '{bad'),
  gw('watch: wrong type in first request', '/v3/watch', JSON.stringify({ create_request: { key: b64('w'), start_revision: 'x' } })),
];

interface RawAnswer {
  readonly status?: number;
  readonly contentType?: string;
  readonly body?: string;
  readonly error?: string;
}

function send(port: number, method: string, path: string, body?: string | Buffer, contentType?: string): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['Content-Length'] = Buffer.byteLength(body);
      if (contentType !== undefined) headers['Content-Type'] = contentType;
    }
    // A fresh connection per request: a server that gives up on a huge body may close it.
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], body: normalize(Buffer.concat(chunks).toString('utf8')) }),
      );
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: res.statusCode, error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

/** Long bodies are cut (a 10 MB echo would swamp a failure message); wall-clock fields go. */
function normalize(body: string): string {
  const b = body.replace(/"expiration":"[^"]*"/g, '"expiration":"<time>"');
  return b.length > 400 ? `${b.slice(0, 400)}...(${b.length} chars)` : b;
}

/** Sends `req`, then a normal request to the same API, on the member at 127.0.0.1:`port`. */
export async function sendBadInput(port: number, req: BadInputRequest): Promise<BadInputAnswer> {
  const a = await send(port, req.method, req.path, req.body, req.contentType);
  const next =
    req.api === 'v2'
      ? await send(port, 'GET', '/v2/keys/k')
      : await send(port, 'POST', '/v3/kv/range', JSON.stringify({ key: b64('foo') }), 'application/json');
  return { ...a, nextStatus: next.status ?? next.error ?? 'no answer' };
}
