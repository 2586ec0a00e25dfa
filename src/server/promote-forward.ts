/**
 * A follower asked to promote a learner forwards the request to the leader's peer port (etcd's
 * `POST /members/promote/<id>`), which alone knows whether the learner is in sync. The leader
 * answers 200 with the members, or an error status with etcd's error text.
 */
import { rpcError, rpcErrorSpecByMessage, type RpcError, type RpcErrorCode } from '../api/rpctypes/index.js';
import { formatId } from './config/ids.js';

/** The peer path prefix of promotions. */
export const PEER_PROMOTE_PREFIX = '/members/promote/';

function errorFromText(text: string): RpcError {
  const spec = rpcErrorSpecByMessage(text.trim());
  return spec === undefined ? rpcError('timeout') : rpcError(spec.code as RpcErrorCode);
}

/** Asks the leader (at `leaderPeerUrls`, tried in order) to promote learner `id`. */
export async function forwardPromote(leaderPeerUrls: readonly string[], id: bigint, timeoutMs: number): Promise<void> {
  let last: RpcError = rpcError('timeout');
  for (const base of leaderPeerUrls) {
    let res: Response;
    try {
      res = await fetch(`${base.replace(/\/$/, '')}${PEER_PROMOTE_PREFIX}${formatId(id)}`, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      continue;
    }
    const body = await res.text();
    if (res.ok) return;
    last = errorFromText(body);
    if (res.status !== 503) throw last;
  }
  throw last;
}
