/**
 * A cluster of members on 127.0.0.1: names m0..m(n-1), one client and one peer port each, one
 * `--initial-cluster` string and token. All members are spawned first and waited on together,
 * because a member of a multi-member cluster only serves once a quorum has elected a leader.
 */
import { freePorts } from './free-port.js';
import { clusterIdOf } from './member-id.js';
import { Member, startMember, type MemberKind } from './member.js';

/** How to start a cluster. */
export interface ClusterOptions {
  /** `--initial-cluster-token`; default 'etcd-e2e-cluster'. */
  readonly token?: string;
  /** Prefix of member names; default 'm'. */
  readonly namePrefix?: string;
  /** More flags for every member. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for every member's `/health`; default 30 s. */
  readonly readyTimeoutMs?: number;
}

/** A running cluster; `destroy()` stops every member and removes their folders. */
export interface Cluster {
  readonly members: readonly Member[];
  /** `host:port` of every member's client URL, for etcdctl --endpoints. */
  readonly endpoints: readonly string[];
  /** The cluster ID etcd derives for this membership. */
  readonly expectedClusterId: bigint;
  destroy(): Promise<void>;
}

/** Starts `size` members of `kind` as one new cluster and waits until all are healthy. */
export async function startCluster(kind: MemberKind, size: number, opts: ClusterOptions = {}): Promise<Cluster> {
  const token = opts.token ?? 'etcd-e2e-cluster';
  const prefix = opts.namePrefix ?? 'm';
  const ports = await freePorts(2 * size);
  const names = Array.from({ length: size }, (_, i) => `${prefix}${i}`);
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const members: Member[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.destroy()));
  };
  try {
    for (let i = 0; i < size; i++) {
      members.push(
        await startMember(kind, {
          name: names[i]!,
          clientPort: ports[2 * i]!,
          peerPort: ports[2 * i + 1]!,
          initialCluster,
          initialClusterToken: token,
          extraArgs: opts.extraArgs ?? [],
          waitReady: false,
        }),
      );
    }
    await Promise.all(members.map((m) => m.waitReady(opts.readyTimeoutMs)));
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    expectedClusterId: clusterIdOf(members.map((m) => m.expectedId)),
    destroy,
  };
}
