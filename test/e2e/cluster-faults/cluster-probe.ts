/**
 * Whether the implementation under test can be tested as a multi-member cluster, asked once per
 * test file. Real etcd needs only its binaries. etcd-ts must form a real 3-member cluster within
 * 15 s: every member healthy, all three agreeing on one leader that is one of them (a member that
 * ignored --initial-cluster and ran alone would name itself), and a write through etcdctl.
 */
import { etcdctl, etcdTsEntry, hasEtcdTsDist, realEtcdSkipReason, startCluster, type Cluster, type MemberKind } from '../harness/index.js';
import { MemberClient } from './member-client.js';

const PROBE_READY_MS = 15_000;

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** Why cluster tests of `kind` must skip, or undefined when they can run. */
export async function clusterSkipReason(kind: MemberKind): Promise<string | undefined> {
  const noEtcd = realEtcdSkipReason();
  if (noEtcd !== undefined) return noEtcd;
  if (kind === 'etcd') return undefined;
  if (!hasEtcdTsDist()) return `etcd-ts is not built (${etcdTsEntry()} missing; run npm run build)`;
  const prefix = 'etcd-ts cannot form a 3-member cluster within 15 s yet';
  let cluster: Cluster | undefined;
  const clients: MemberClient[] = [];
  try {
    cluster = await startCluster('etcd-ts', 3, { token: 'cluster-probe', namePrefix: 'probe', readyTimeoutMs: PROBE_READY_MS });
    const ids = new Set(cluster.members.map((m) => m.expectedId));
    for (const m of cluster.members) clients.push(new MemberClient(m.endpoint));
    const statuses = await Promise.all(clients.map((c) => c.status(2_000)));
    const leaders = new Set(statuses.map((s) => s.leader));
    const leader = statuses[0]!.leader;
    if (leaders.size !== 1 || !ids.has(leader)) {
      return `${prefix}: members name leaders ${[...leaders].map((l) => l.toString(16)).join(', ')}, not one of ${[...ids].map((i) => i.toString(16)).join(', ')}`;
    }
    const r = await etcdctl(cluster.endpoints, ['--command-timeout=5s', 'put', 'cluster-probe', 'v'], { timeoutMs: 7_000 });
    if (r.code !== 0) return `${prefix}: etcdctl put failed: ${firstLine(r.stderr) || `exit ${r.code}`}`;
    return undefined;
  } catch (err) {
    return `${prefix}: ${firstLine(err instanceof Error ? err.message : String(err))}`;
  } finally {
    for (const c of clients) c.close();
    await cluster?.destroy();
  }
}
