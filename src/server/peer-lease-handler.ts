/**
 * The leader's side of forwarded lease calls on the peer port (etcd's leasehttp handler):
 * `POST /leases` renews, `POST /leases/internal` answers a time-to-live, protobuf bodies both ways.
 * 200 with the answer; 404 when the lease does not exist; 503 with etcd's text when this member
 * does not lead (the follower asks the leader it learns next); 400 for a body it cannot read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as pb from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import type { CallGone } from './lease-api.js';
import { decodeLeaseInternalRequest, encodeLeaseInternalResponse, PEER_LEASES_INTERNAL_PATH, PEER_LEASES_PATH, PROTOBUF_CONTENT_TYPE } from './lease-forward.js';

/** What the handler calls: the member's lease server. */
export interface LeaderLeases {
  renewAsLeader(id: bigint, gone?: CallGone): Promise<number>;
  timeToLiveAsLeader(req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse>;
}

type PeerHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Whether `path` is one of the forwarded lease paths. */
export function isPeerLeasePath(path: string): boolean {
  return path === PEER_LEASES_PATH || path === PEER_LEASES_INTERNAL_PATH;
}

/** Serves the lease paths, passing every other request to `next`. */
export function peerLeaseHandler(leases: LeaderLeases, next: PeerHandler): PeerHandler {
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    if (!isPeerLeasePath(path)) {
      next(req, res);
      return;
    }
    if (req.method !== 'POST') {
      reply(res, 405, 'Method Not Allowed');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => void serve(leases, path, Buffer.concat(chunks), res));
  };
}

function reply(res: ServerResponse, status: number, body: string | Uint8Array): void {
  if (res.headersSent || res.destroyed) return;
  const binary = typeof body !== 'string';
  res.writeHead(status, { 'content-type': binary ? PROTOBUF_CONTENT_TYPE : 'text/plain; charset=utf-8' });
  res.end(binary ? body : `${body}\n`);
}

async function serve(leases: LeaderLeases, path: string, body: Uint8Array, res: ServerResponse): Promise<void> {
  let answer: () => Promise<Uint8Array | undefined>;
  try {
    if (path === PEER_LEASES_PATH) {
      const r = pb.LeaseKeepAliveRequest.decode(body);
      // The follower gave up (its timeout, its client gone): do not renew late on its behalf.
      const gone = { aborted: false };
      res.on('close', () => (gone.aborted = true));
      answer = async () => {
        const ttl = await leases.renewAsLeader(r.ID, gone);
        return ttl === 0 ? undefined : pb.LeaseKeepAliveResponse.encode({ header: undefined, ID: r.ID, TTL: ttl });
      };
    } else {
      const r = decodeLeaseInternalRequest(body);
      answer = async () => {
        const resp = await leases.timeToLiveAsLeader(r);
        return resp.TTL === -1 ? undefined : encodeLeaseInternalResponse(resp);
      };
    }
  } catch {
    reply(res, 400, 'error unmarshalling request');
    return;
  }
  try {
    const out = await answer();
    if (out === undefined) reply(res, 404, 'lease not found');
    else reply(res, 200, out);
  } catch (err) {
    reply(res, isRpcError(err, 'not-leader') ? 503 : 500, err instanceof Error ? err.message : String(err));
  }
}
