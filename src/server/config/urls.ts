/**
 * URL lists as etcd's flags take them (`http://10.0.0.1:2380,http://10.0.0.2:2380`), parsed and
 * checked with the same rules and error texts as etcd 3.4 (`types.NewURLs` over Go's
 * `net/url`), and normalized the way Go prints them (lowercase scheme), sorted.
 */

import { isIP } from 'node:net';

/** A parsed URL, split the way etcd uses it. */
export interface EtcdUrl {
  /** `http`, `https`, `unix` or `unixs`, lowercase. */
  readonly scheme: string;
  /** `host:port` as written (IPv6 in brackets); for unix schemes, the socket path. */
  readonly host: string;
  /** The host name or IP, brackets removed. */
  readonly hostname: string;
  /** The port text (not range-checked, as in etcd). */
  readonly port: string;
  /** The normalized text, as Go's `url.URL.String()` prints it. */
  readonly text: string;
}

/** The outcome of a parse: a value, or etcd's one-line error. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Splits `host:port` as Go's `net.SplitHostPort` does; undefined when it has no port. */
export function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0 || hostport[end + 1] !== ':') return undefined;
    return { host: hostport.slice(1, end), port: hostport.slice(end + 2) };
  }
  const colon = hostport.lastIndexOf(':');
  if (colon < 0 || hostport.indexOf(':') !== colon) return undefined;
  return { host: hostport.slice(0, colon), port: hostport.slice(colon + 1) };
}

interface RawUrl {
  scheme: string;
  user: string;
  host: string;
  path: string;
  query: string;
  fragment: string;
  hasAuthority: boolean;
}

/** Parses one URL the way Go's `url.Parse` does, for the shapes etcd flags use. */
function parseRaw(raw: string): Parsed<RawUrl> {
  const fail = (why: string): Parsed<RawUrl> => ({ ok: false, error: `parse ${JSON.stringify(raw)}: ${why}` });
  let rest = raw;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  // Scheme: a letter, then letters, digits, '+', '-' or '.', ended by ':'.
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return fail('missing protocol scheme');
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (scheme === '' && !rest.startsWith('/')) {
    const slash = rest.indexOf('/');
    const first = slash < 0 ? rest : rest.slice(0, slash);
    if (first.includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  let user = '';
  let host = '';
  let hasAuthority = false;
  if (rest.startsWith('//')) {
    hasAuthority = true;
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    let authority = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      user = authority.slice(0, at);
      authority = authority.slice(at + 1);
    }
    host = authority;
    let portPart = '';
    if (host.startsWith('[')) {
      const end = host.indexOf(']');
      if (end < 0) return fail("missing ']' in host");
      portPart = host.slice(end + 1);
    } else {
      const colon = host.lastIndexOf(':');
      if (colon >= 0) portPart = host.slice(colon);
    }
    if (portPart !== '' && !/^:[0-9]*$/.test(portPart)) {
      return fail(`invalid port ${JSON.stringify(portPart)} after host`);
    }
  }
  return { ok: true, value: { scheme, user, host, path: rest, query, fragment, hasAuthority } };
}

function render(u: RawUrl): string {
  let out = u.scheme === '' ? '' : `${u.scheme}:`;
  if (u.hasAuthority) out += `//${u.user === '' ? '' : `${u.user}@`}${u.host}`;
  out += u.path;
  if (u.query !== '') out += `?${u.query}`;
  if (u.fragment !== '') out += `#${u.fragment}`;
  return out;
}

/**
 * Parses one URL and applies etcd's rules: scheme http, https, unix or unixs; a `host:port`
 * address; no path.
 */
export function parseEtcdUrl(input: string): Parsed<EtcdUrl> {
  const text = input.trim();
  const raw = parseRaw(text);
  if (!raw.ok) return raw;
  const u = raw.value;
  if (u.scheme !== 'http' && u.scheme !== 'https' && u.scheme !== 'unix' && u.scheme !== 'unixs') {
    return { ok: false, error: `URL scheme must be http, https, unix, or unixs: ${text}` };
  }
  const hp = splitHostPort(u.host);
  if (hp === undefined) return { ok: false, error: `URL address does not have the form "host:port": ${text}` };
  if (u.path !== '') return { ok: false, error: `URL must not contain a path: ${text}` };
  return { ok: true, value: { scheme: u.scheme, host: u.host, hostname: hp.host, port: hp.port, text: render(u) } };
}

/**
 * Parses a comma-separated URL list: each URL checked by {@link parseEtcdUrl}, the list sorted
 * by normalized text (etcd sorts, so member IDs do not depend on flag order).
 */
export function parseUrlList(list: string): Parsed<EtcdUrl[]> {
  const urls: EtcdUrl[] = [];
  for (const part of list.split(',')) {
    const r = parseEtcdUrl(part);
    if (!r.ok) return r;
    urls.push(r.value);
  }
  urls.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return { ok: true, value: urls };
}

/**
 * etcd's rule for URLs to listen on: an IP address or `localhost`, never another host name
 * (binding must not depend on DNS). Unix sockets pass. Returns the error text or undefined.
 */
export function checkBindUrls(urls: readonly EtcdUrl[]): string | undefined {
  for (const u of urls) {
    if (u.scheme === 'unix' || u.scheme === 'unixs') continue;
    if (u.hostname === 'localhost') continue;
    if (isIP(u.hostname) === 0) return `expected IP in URL for binding (${u.text})`;
  }
  return undefined;
}

/** etcd's rule for advertised URLs: the host may be a name but not empty. */
export function checkHostUrls(urls: readonly EtcdUrl[]): string | undefined {
  for (const u of urls) {
    if (u.hostname === '') return `unexpected empty host (${u.text})`;
  }
  return undefined;
}
