/**
 * The URL path handling of Go's net/http that etcd's client port shows before any handler runs:
 * the path is percent-decoded (a bad escape is a 400 from the server itself), and Go's ServeMux
 * answers a path that is not clean (`..`, `.`, `//`) with a 301 to its cleaned form.
 */
import type { ServerResponse } from 'node:http';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Go's url.PathUnescape of a raw path: the decoded path, or undefined for a bad escape. */
export function unescapeUrlPath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  const src = Buffer.from(raw, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    if (i + 2 >= src.length || !isHex(src[i + 1]!) || !isHex(src[i + 2]!)) return undefined;
    out[n++] = parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16);
    i += 2;
  }
  return out.toString('utf8', 0, n);
}

/** Whether `p` may hold a segment path.Clean would change: empty, `.` or `..`. */
const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)/;

/** Go's path.Clean for a rooted URL path, keeping a trailing slash as ServeMux does. */
export function cleanUrlPath(p: string): string {
  if (p.charCodeAt(0) === 0x2f && !UNCLEAN.test(p)) return p;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let out = `/${parts.join('/')}`;
  if (p.endsWith('/') && out !== '/') out += '/';
  return out;
}

/** Go's server answer to a request line whose path does not decode. */
export function writeBadRequestPath(res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.statusCode = 400;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Connection', 'close');
  res.end('400 Bad Request');
}

/** Go's http.Redirect with 301, as ServeMux sends it (an HTML body for GET and HEAD only). */
export function writeMovedPermanently(res: ServerResponse, method: string | undefined, location: string): void {
  res.statusCode = 301;
  res.setHeader('Location', location);
  if (method === 'GET' || method === 'HEAD') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<a href="${location}">Moved Permanently</a>.\n\n`);
  } else {
    res.end();
  }
}
