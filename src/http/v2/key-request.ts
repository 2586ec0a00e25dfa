/**
 * Turns a `/v2/keys` HTTP request into the v2 request etcd proposes (etcd 3.4 v2http
 * parseKeyRequest): form fields parsed with Go's rules, each bad field answered with etcd's v2
 * error (index 0), the key placed under the store's "/1" namespace, and a TTL turned into an
 * absolute expiry by the member's clock.
 */
import type * as pb from '../../api/gen/etcdserverpb.js';
import { newV2Error, V2ErrorCode, type V2Error, type V2ErrorCodeValue } from '../../server/v2-server.js';
import { formValue, parseGoQuery, type GoForm } from './go-form.js';

/** The URL prefix of the keys API. */
export const KEYS_PREFIX = '/v2/keys';
/** Where the keys live in the store (etcd's StoreKeysPrefix). */
export const STORE_KEYS_PREFIX = '/1';

/** A parsed key request, or the error to answer with. */
export type KeyRequestOutcome =
  | { readonly ok: true; readonly req: pb.Request; readonly noValueOnSuccess: boolean }
  | { readonly ok: false; readonly error: V2Error };

const MAX_UINT64 = 18446744073709551615n;

function parseUint64(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > MAX_UINT64 ? undefined : Number(v);
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return undefined;
}

class FieldError {
  constructor(readonly error: V2Error) {}
}

function fail(code: V2ErrorCodeValue, cause: string): never {
  throw new FieldError(newV2Error(code, cause, 0));
}

function uintField(form: GoForm, key: string, code: V2ErrorCodeValue = V2ErrorCode.IndexNaN): number {
  const vals = form.get(key);
  if (vals === undefined) return 0;
  const v = parseUint64(vals[0]!);
  if (v === undefined) fail(code, `invalid value for "${key}"`);
  return v;
}

function boolField(form: GoForm, key: string, cause = `invalid value for "${key}"`): boolean {
  const vals = form.get(key);
  if (vals === undefined) return false;
  const v = parseGoBool(vals[0]!);
  if (v === undefined) fail(V2ErrorCode.InvalidField, cause);
  return v;
}

/** A path segment path.Clean would change (empty, `.`, `..`) or a trailing slash. */
const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** Go's path.Join("/1", rest): cleaned, rooted. */
function joinKey(rest: string): string {
  if (rest.charCodeAt(0) === 0x2f && !UNCLEAN.test(rest)) return STORE_KEYS_PREFIX + rest;
  const parts: string[] = [];
  for (const seg of `${STORE_KEYS_PREFIX}/${rest}`.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/**
 * Parses a key request.
 * @param method the HTTP method
 * @param path the decoded URL path, starting with /v2/keys
 * @param rawQuery the URL's query, undecoded
 * @param body the url-encoded body (PUT and POST only; '' otherwise)
 * @param bodyError Go's error reading the body (too large), if any
 * @param expirationFor the absolute expiry (Unix ns) of a TTL in seconds
 */
export function parseKeyRequest(
  method: string,
  path: string,
  rawQuery: string,
  body: string,
  bodyError: string | undefined,
  expirationFor: (ttlSeconds: number) => bigint,
): KeyRequestOutcome {
  try {
    const form: GoForm = new Map();
    // Go's ParseForm: the body's pairs first, then the query's; the body's error wins.
    const postErr = bodyError ?? parseGoQuery(body, form);
    const queryErr = parseGoQuery(rawQuery, form);
    const formErr = postErr ?? queryErr;
    if (formErr !== undefined) fail(V2ErrorCode.InvalidForm, formErr);
    if (!path.startsWith(KEYS_PREFIX)) fail(V2ErrorCode.InvalidForm, 'incorrect key prefix');
    const p = joinKey(path.slice(KEYS_PREFIX.length));

    const prevIndex = uintField(form, 'prevIndex');
    const waitIndex = uintField(form, 'waitIndex');
    const recursive = boolField(form, 'recursive');
    const sorted = boolField(form, 'sorted');
    const wait = boolField(form, 'wait');
    const dir = boolField(form, 'dir');
    const quorum = boolField(form, 'quorum');
    const stream = boolField(form, 'stream');
    if (wait && method !== 'GET') fail(V2ErrorCode.InvalidField, '"wait" can only be used with GET requests');
    const prevValue = formValue(form, 'prevValue');
    if (form.has('prevValue') && prevValue === '') fail(V2ErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
    const noValueOnSuccess = boolField(form, 'noValueOnSuccess');
    let ttl: number | undefined;
    if (formValue(form, 'ttl').length > 0) ttl = uintField(form, 'ttl', V2ErrorCode.TtlNaN);
    let prevExist: boolean | undefined;
    if (form.has('prevExist')) prevExist = boolField(form, 'prevExist', 'invalid value for prevExist');
    let refresh: boolean | undefined;
    if (form.has('refresh')) {
      refresh = boolField(form, 'refresh', 'invalid value for refresh');
      if (refresh) {
        if (form.has('value') && formValue(form, 'value') !== '') fail(V2ErrorCode.RefreshValue, 'A value was provided on a refresh');
        if (ttl === undefined) fail(V2ErrorCode.RefreshTtlRequired, 'No TTL value set');
      }
    }
    const req: pb.Request = {
      Method: method,
      Path: p,
      Val: formValue(form, 'value'),
      Dir: dir,
      PrevValue: prevValue,
      PrevIndex: prevIndex,
      PrevExist: prevExist,
      Wait: wait,
      Since: waitIndex,
      Recursive: recursive,
      Sorted: sorted,
      Quorum: quorum,
      Stream: stream,
      Refresh: refresh,
    };
    if (ttl !== undefined) req.Expiration = expirationFor(ttl);
    return { ok: true, req, noValueOnSuccess };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.error };
    throw err;
  }
}
