/**
 * The peer port's membership path (etcd's `/members` peer handler): GET answers the applied
 * members as a JSON array, with the cluster ID in `X-Etcd-Cluster-ID`. A member joining with
 * `--initial-cluster-state existing` asks it to learn the cluster before it starts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRpcError } from '../api/rpctypes/index.js';
import { formatId, parseId } from './config/ids.js';
import { memberToJson, type Member } from './member.js';
import { PEER_PROMOTE_PREFIX } from './promote-forward.js';

/** The path etcd serves the member list on, on the peer port. */
export const PEER_MEMBERS_PATH = '/members';

/** What the handler reads. */
export interface MembersSource {
  readonly clusterId: bigint;
  readonly membership: { members(): Member[]; member(id: bigint): Member | undefined };
  /** The leader's promotion of a learner; rejects with an RpcError. */
  promoteAsLeader(m: Member): Promise<void>;
}

/** The members as etcd's peer handler encodes them. */
export function membersToJson(members: readonly Member[]): string {
  return `[${members.map((m) => memberToJson(m)).join(',')}]\n`;
}

/** Serves GET /members; anything else is 404 (as the transport does for unknown paths). */
export function peerMembersHandler(source: MembersSource): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path === PEER_MEMBERS_PATH && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-etcd-cluster-id': formatId(source.clusterId) });
      res.end(membersToJson(source.membership.members()));
      return;
    }
    if (path !== undefined && path.startsWith(PEER_PROMOTE_PREFIX) && req.method === 'POST') {
      req.resume();
      void promote(source, path.slice(PEER_PROMOTE_PREFIX.length), res);
      return;
    }
    if (path === PEER_MEMBERS_PATH) {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  };
}

async function promote(source: MembersSource, idText: string, res: ServerResponse): Promise<void> {
  const id = parseId(idText);
  const m = id === undefined ? undefined : source.membership.member(id);
  const reply = (status: number, body: string): void => {
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain; charset=utf-8', 'x-etcd-cluster-id': formatId(source.clusterId) });
    res.end(body);
  };
  if (m === undefined) {
    reply(404, 'etcdserver: member not found');
    return;
  }
  try {
    await source.promoteAsLeader(m);
    reply(200, membersToJson(source.membership.members()));
  } catch (err) {
    if (isRpcError(err, 'learner-not-ready') || isRpcError(err, 'member-not-learner') || isRpcError(err, 'member-not-enough-started')) reply(412, err.message);
    else if (isRpcError(err, 'not-leader')) reply(503, err.message);
    else reply(500, err instanceof Error ? err.message : String(err));
  }
}
