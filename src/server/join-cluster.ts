/**
 * A member started with `--initial-cluster-state existing` learns the cluster it joins from the
 * other members' peer ports (etcd's GetClusterFromRemotePeers): GET `/members` answers the
 * members and the cluster ID. The member must already be in that list (added by MemberAdd) with
 * its advertised peer URLs.
 */
import { memberFromJson, type Member } from './member.js';
import { PEER_MEMBERS_PATH } from './peer-members-handler.js';
import { parseId } from './config/ids.js';

/** The cluster as a remote member described it. */
export interface RemoteCluster {
  readonly clusterId: bigint;
  readonly members: Member[];
}

/** Splits a JSON array of members without losing the precision of their 64-bit IDs. */
function parseMembers(text: string): Member[] {
  const arr = JSON.parse(text) as unknown[];
  if (!Array.isArray(arr)) throw new Error('not a member list');
  // Re-serialise each element from its own source text so the ID digits survive.
  const out: Member[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(memberFromJson(text.slice(start, i + 1)).member);
    }
  }
  return out;
}

/** Asks each peer URL in turn for the cluster's members; rejects if none answers. */
export async function fetchRemoteCluster(peerUrls: readonly string[], timeoutMs: number): Promise<RemoteCluster> {
  const errors: string[] = [];
  for (const base of peerUrls) {
    try {
      const res = await fetch(`${base.replace(/\/$/, '')}${PEER_MEMBERS_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = await res.text();
      if (!res.ok) throw new Error(`status ${res.status}`);
      const clusterId = parseId(res.headers.get('x-etcd-cluster-id') ?? '');
      if (clusterId === undefined) throw new Error('no X-Etcd-Cluster-ID header');
      return { clusterId, members: parseMembers(body) };
    } catch (err) {
      errors.push(`${base}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`could not retrieve cluster information from the given URLs (${errors.join('; ')})`);
}
