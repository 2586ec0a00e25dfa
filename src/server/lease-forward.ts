/**
 * A follower's {@link LeaderForwarder} over the peer port, as etcd's leasehttp does: keep-alives
 * go to the leader's `POST /leases` (a LeaseKeepAliveRequest, answered with a
 * LeaseKeepAliveResponse), time-to-live to `POST /leases/internal` (a LeaseInternalRequest
 * wrapping the LeaseTimeToLiveRequest, answered with a LeaseInternalResponse), protobuf bodies
 * both ways. 404 means the lease does not exist; any other failure rejects, and the lease server
 * tries again (the leader may have changed) until its request timeout.
 */
import http from 'node:http';
import https from 'node:https';
import * as pb from '../api/gen/etcdserverpb.js';
import { rpcError } from '../api/rpctypes/index.js';
import type { LeaderForwarder } from './lease-api.js';

/** The peer path of forwarded keep-alives (etcd's leasehttp.LeasePrefix). */
export const PEER_LEASES_PATH = '/leases';
/** The peer path of forwarded time-to-live (etcd's leasehttp.LeaseInternalPrefix). */
export const PEER_LEASES_INTERNAL_PATH = '/leases/internal';
/** The content type of both paths' bodies. */
export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

/** Kept-alive connections to one leader at most: forwarded keep-alives run concurrently. */
const MAX_SOCKETS_PER_LEADER = 16;

// leasepb.LeaseInternalRequest / LeaseInternalResponse: one embedded message at field 1.
const WRAPPED_FIELD_TAG = 0x0a;

function wrap(inner: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = inner.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  const out = new Uint8Array(1 + len.length + inner.length);
  out[0] = WRAPPED_FIELD_TAG;
  out.set(len, 1);
  out.set(inner, 1 + len.length);
  return out;
}

/** The field-1 message of a one-field wrapper; undefined when absent; throws when malformed. */
function unwrap(bytes: Uint8Array): Uint8Array | undefined {
  let i = 0;
  let found: Uint8Array | undefined;
  while (i < bytes.length) {
    const tag = bytes[i++];
    if ((tag & 0x07) !== 2) throw new Error('lease: unexpected wire type in LeaseInternal message');
    let len = 0;
    let shift = 0;
    for (;;) {
      if (i >= bytes.length || shift > 28) throw new Error('lease: truncated LeaseInternal message');
      const b = bytes[i++];
      len |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    if (i + len > bytes.length) throw new Error('lease: truncated LeaseInternal message');
    if (tag === WRAPPED_FIELD_TAG) found = bytes.subarray(i, i + len);
    i += len;
  }
  return found;
}

/** Encodes etcd's leasepb.LeaseInternalRequest. */
export function encodeLeaseInternalRequest(req: pb.LeaseTimeToLiveRequest): Uint8Array {
  return wrap(pb.LeaseTimeToLiveRequest.encode(req));
}

/** Decodes etcd's leasepb.LeaseInternalRequest; throws when malformed. */
export function decodeLeaseInternalRequest(bytes: Uint8Array): pb.LeaseTimeToLiveRequest {
  return pb.LeaseTimeToLiveRequest.decode(unwrap(bytes) ?? new Uint8Array(0));
}

/** Encodes etcd's leasepb.LeaseInternalResponse. */
export function encodeLeaseInternalResponse(resp: pb.LeaseTimeToLiveResponse): Uint8Array {
  return wrap(pb.LeaseTimeToLiveResponse.encode(resp));
}

/** Decodes etcd's leasepb.LeaseInternalResponse; throws when malformed. */
export function decodeLeaseInternalResponse(bytes: Uint8Array): pb.LeaseTimeToLiveResponse {
  return pb.LeaseTimeToLiveResponse.decode(unwrap(bytes) ?? new Uint8Array(0));
}

/** The answer of one POST: its status and body. */
interface PostAnswer {
  readonly status: number;
  readonly body: Uint8Array;
}

/**
 * POSTs over a kept-alive connection of `agent` (node:http, not fetch: a forwarded keep-alive is
 * on every renewal's path, and fetch costs several times more per request in time and CPU).
 */
function postOnce(agent: http.Agent | https.Agent, url: URL, body: Uint8Array, timeoutMs: number): Promise<PostAnswer> {
  const secure = url.protocol === 'https:';
  const options: http.RequestOptions = {
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    path: url.pathname,
    method: 'POST',
    agent,
    headers: { 'content-type': PROTOBUF_CONTENT_TYPE, 'content-length': body.length },
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error('lease: forwarded request timed out')), Math.max(1, Math.ceil(timeoutMs)));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/** Forwards to the leader's peer URLs, which `peerUrlsOf` reads from the membership store. */
export class PeerLeaseForwarder implements LeaderForwarder {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_LEADER });
  private httpsAgent: https.Agent | undefined;
  /** Renewals on their way to a leader, by leader and lease: a second one for the same lease shares the answer. */
  private readonly renewing = new Map<string, Promise<number>>();

  /**
   * `tls` is used for https peer URLs (client certificate and trusted CAs of the peer port).
   */
  constructor(
    private readonly peerUrlsOf: (member: bigint) => readonly string[],
    private readonly tls: https.AgentOptions = {},
  ) {}

  leaseRenew(leader: bigint, id: bigint, timeoutMs: number): Promise<number> {
    const key = `${leader}/${id}`;
    const pending = this.renewing.get(key);
    if (pending !== undefined) return pending;
    const p = this.renew(leader, id, timeoutMs).finally(() => this.renewing.delete(key));
    this.renewing.set(key, p);
    return p;
  }

  private async renew(leader: bigint, id: bigint, timeoutMs: number): Promise<number> {
    const out = await this.post(this.peerUrlsOf(leader), PEER_LEASES_PATH, pb.LeaseKeepAliveRequest.encode({ ID: id }), timeoutMs);
    if (out === undefined) return 0;
    const resp = pb.LeaseKeepAliveResponse.decode(out);
    if (resp.ID !== id) throw rpcError('timeout');
    return resp.TTL;
  }

  async leaseTimeToLive(leader: bigint, req: pb.LeaseTimeToLiveRequest, timeoutMs: number): Promise<pb.LeaseTimeToLiveResponse> {
    const out = await this.post(this.peerUrlsOf(leader), PEER_LEASES_INTERNAL_PATH, encodeLeaseInternalRequest(req), timeoutMs);
    if (out === undefined) return { header: undefined, ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
    const resp = decodeLeaseInternalResponse(out);
    if (resp.ID !== req.ID) throw rpcError('timeout');
    return resp;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  /** POSTs `body` to `path` on the first of `urls` that answers; undefined when the lease is not found. */
  private async post(urls: readonly string[], path: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined> {
    if (urls.length === 0) throw rpcError('no-leader');
    for (const base of urls) {
      let url: URL;
      try {
        url = new URL(path, base);
      } catch {
        continue;
      }
      const agent = url.protocol === 'https:' ? (this.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_LEADER, ...this.tls })) : this.httpAgent;
      let res: PostAnswer;
      try {
        res = await postOnce(agent, url, body, timeoutMs);
      } catch {
        continue;
      }
      if (res.status === 200) return res.body;
      if (res.status === 404) return undefined;
    }
    // Retryable: the caller tries again until its deadline (etcd sleeps 50 ms between rounds).
    throw rpcError('timeout');
  }
}
