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

const v2 = (name: string, method: string, path: string, body?: string | Buffer): BadInputRequest => ({
  name: `v2: ${name}`,
  method,
  path,
  body,
  contentType: body === undefined ? undefined : FORM,
  api: 'v2',
});

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
  gw('10 MB value', '/v3/kv/put', Buffer.from(JSON.stringify({ key: b64('big'), value: Buffer.alloc(TEN_MB, 'a').toString('base64') }))),
  gw('path with ..', '/v3/kv/../kv/range', JSON.stringify({ key: b64('foo') })),
  gw('encoded path', '/v3/kv/%72ange', JSON.stringify({ key: b64('foo') })),
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
