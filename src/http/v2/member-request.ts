/**
 * The body of `POST /v2/members` and `PUT /v2/members/<id>` read as etcd 3.4 reads it
 * (httptypes.MemberCreateRequest / MemberUpdateRequest): Go's json.Unmarshal into
 * `struct { PeerURLs []string "json:\"peerURLs\"" }`, then types.NewURLs, each failure answered
 * with Go's exact text.
 */
import { goQuoteChar, scanGoJsonValue } from '../gateway/go-json-scan.js';

/** The peer URLs of a member request (sorted, as types.NewURLs sorts them), or Go's error text. */
export type MemberRequestBody = { readonly ok: true; readonly peerURLs: string[] } | { readonly ok: false; readonly message: string };

const GO_STRUCT = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

function goKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Go's json.Unmarshal validity check over the whole text: undefined when it is one JSON value. */
function syntaxError(text: string): string | undefined {
  const scan = scanGoJsonValue(text, 0, true);
  if (scan.kind === 'eof' || scan.kind === 'incomplete') return 'unexpected end of JSON input';
  if (scan.kind === 'error') return scan.message === 'unexpected EOF' ? 'unexpected end of JSON input' : scan.message;
  const rest = text.slice(scan.end).replace(/^[ \t\n\r]+/, '');
  if (rest !== '') return `invalid character ${goQuoteChar(String.fromCodePoint(rest.codePointAt(0)!))} after top-level value`;
  return undefined;
}

/** encoding/json's field match: the exact name, else a case-insensitive one; the last match wins. */
function peerUrlsValue(obj: Record<string, unknown>): unknown {
  let found: unknown = null;
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === 'peerurls') found = v;
  return found;
}

/** Go's net.SplitHostPort succeeds (host may be empty; IPv6 in brackets). */
function hasHostPort(host: string): boolean {
  if (host.startsWith('[')) return /^\[[^\]]*\]:[^:]*$/.test(host);
  const i = host.lastIndexOf(':');
  return i >= 0 && !host.slice(0, i).includes(':');
}

/** Go's url getScheme: the scheme and the rest, no scheme, or its error. */
function goScheme(s: string): { scheme: string; rest: string } | { error: string } {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return { scheme: '', rest: s };
      continue;
    }
    if (c === ':') return i === 0 ? { error: 'missing protocol scheme' } : { scheme: s.slice(0, i), rest: s.slice(i + 1) };
    return { scheme: '', rest: s };
  }
  return { scheme: '', rest: s };
}

/** etcd's types.NewURLs check of one URL (after Go's url.Parse): undefined when valid. */
function urlError(raw: string): string | undefined {
  const s = raw.trim();
  const parsed = goScheme(s.replace(/#.*$/s, ''));
  if ('error' in parsed) return `parse ${JSON.stringify(s)}: ${parsed.error}`;
  let rest = parsed.rest.replace(/\?.*$/s, '');
  if (parsed.scheme === '' && !rest.startsWith('/') && rest.split('/', 1)[0]!.includes(':')) {
    return `parse ${JSON.stringify(s)}: first path segment in URL cannot contain colon`;
  }
  const scheme = parsed.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'unix' && scheme !== 'unixs') return `URL scheme must be http, https, unix, or unixs: ${s}`;
  let host = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    host = slash < 0 ? rest : rest.slice(0, slash);
    host = host.slice(host.lastIndexOf('@') + 1);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  if (!hasHostPort(host)) return `URL address does not have the form "host:port": ${s}`;
  if (rest !== '') return `URL must not contain a path: ${s}`;
  return undefined;
}

/** Parses a member request body; see the file comment. */
export function parseMemberRequestBody(body: string): MemberRequestBody {
  const syntax = syntaxError(body);
  if (syntax !== undefined) return { ok: false, message: syntax };
  const json = JSON.parse(body) as unknown;
  let urls: string[] = [];
  if (json !== null) {
    if (typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: `json: cannot unmarshal ${goKind(json)} into Go value of type ${GO_STRUCT}` };
    const v = peerUrlsValue(json as Record<string, unknown>);
    if (v !== null) {
      if (!Array.isArray(v)) return { ok: false, message: `json: cannot unmarshal ${goKind(v)} into Go struct field .peerURLs of type []string` };
      const bad = v.find((u) => u !== null && typeof u !== 'string');
      if (bad !== undefined) return { ok: false, message: `json: cannot unmarshal ${goKind(bad)} into Go struct field .peerURLs of type string` };
      urls = v.map((u) => (u === null ? '' : (u as string)));
    }
  }
  if (urls.length === 0) return { ok: false, message: 'no valid URLs given' };
  for (const u of urls) {
    const err = urlError(u);
    if (err !== undefined) return { ok: false, message: err };
  }
  return { ok: true, peerURLs: urls.map((u) => u.trim()).sort() };
}
