/**
 * What the v2 HTTP API needs from a member, and the adapter that takes it from an EtcdServer:
 * the v2 request path, the membership, and the figures of /v2/stats.
 */
import type { EtcdServer } from '../../server/etcd-server.js';
import type { ClusterApi } from '../../server/server-api.js';
import type { V2Response } from '../../server/v2-server.js';
import type * as pb from '../../api/gen/etcdserverpb.js';
import type { V2StatsSource } from './v2-stats-json.js';

/** One member as /v2/members shows it. */
export interface V2Member {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** The member behind the v2 API. */
export interface V2Source extends Pick<ClusterApi, 'memberAdd' | 'memberRemove' | 'memberUpdate'> {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The member's name (--name). */
  readonly name: string;
  /** Serves a parsed key request (etcd's EtcdServer.Do). */
  do(req: pb.Request): Promise<V2Response>;
  /** The absolute expiry, in Unix ns, of a TTL given now. */
  expirationFor(ttlSeconds: number): bigint;
  /** The members, ordered by ID. */
  members(): readonly V2Member[];
  /** The leader's ID, 0n when none is known. */
  leader(): bigint;
  /** Whether this member leads. */
  isLeader(): boolean;
  /** The /v2/stats/store body. */
  storeStatsJson(): string;
  /** The MsgApp counters and follower figures of /v2/stats/self and /v2/stats/leader. */
  readonly stats: V2StatsSource;
}

/** The v2 view of a running EtcdServer. */
export function v2SourceOf(server: EtcdServer, name: string): V2Source {
  return {
    clusterId: server.clusterId,
    memberId: server.memberId,
    name,
    do: (req) => server.v2.do(req),
    expirationFor: (ttl) => server.v2.expirationFor(ttl),
    members: () => [...server.membership.members()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    leader: () => server.leader,
    isLeader: () => server.raftNode.isLeader,
    storeStatsJson: () => server.v2.store.jsonStats(),
    stats: server.v2Stats,
    memberAdd: (req) => server.memberAdd(req),
    memberRemove: (req) => server.memberRemove(req),
    memberUpdate: (req) => server.memberUpdate(req),
  };
}
