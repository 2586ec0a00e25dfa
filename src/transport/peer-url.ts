import http from 'node:http';
import https from 'node:https';
import { EtcdError } from '../pkg/errors.js';

/** Host, port and scheme of a peer URL (`http://host:port` or `https://host:port`). */
export interface PeerAddress {
  secure: boolean;
  /** Host name or IP, without IPv6 brackets. */
  host: string;
  port: number;
}

/** Parses a peer URL; throws EtcdError 'invalid-peer-url' for anything but http(s)://host[:port]. */
export function parsePeerUrl(text: string): PeerAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EtcdError('invalid-peer-url', `transport: invalid peer URL ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EtcdError('invalid-peer-url', `transport: peer URL ${JSON.stringify(text)} must use http or https`);
  }
  const secure = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { secure, host, port: url.port === '' ? (secure ? 443 : 80) : Number(url.port) };
}

/** The http or https module for an address. */
export function httpModuleFor(a: PeerAddress): typeof http | typeof https {
  return a.secure ? https : http;
}

/** The URL of a bound address, for `listenUrls()` (IPv6 hosts in brackets). */
export function formatPeerUrl(secure: boolean, host: string, port: number): string {
  return `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
