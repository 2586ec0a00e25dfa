/**
 * Failover time of a 3-member cluster, etcd-ts against real etcd 3.4: a client writes in a loop
 * (each put bounded by 500 ms, moving to the next member on failure); the leader is killed with
 * SIGKILL; the figure is the time from the kill to the first acknowledged write sent after it,
 * with the time until the survivors agree on a new leader beside it. ROUNDS clusters per kind
 * (default 3); medians are printed, and the ratio etcd-ts/etcd.
 * Usage: npm run build && node dist/bench/cluster-failover.js [ROUNDS]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type MemberKind } from '../test/e2e/harness/index.js';
import { clusterSkipReason } from '../test/e2e/cluster-faults/cluster-probe.js';
import { memberWithId, TIMING_ARGS, waitForLeader } from '../test/e2e/cluster-faults/cluster-view.js';
import { MemberClient } from '../test/e2e/cluster-faults/member-client.js';

const rounds = Number(process.argv[2] ?? 3);

interface Failover {
  readonly electedMs: number;
  readonly firstWriteMs: number;
}

async function failoverOnce(kind: MemberKind, round: number): Promise<Failover> {
  const cluster = await startCluster(kind, 3, { token: `failover-${round}`, extraArgs: TIMING_ARGS });
  const clients = cluster.members.map((m) => new MemberClient(m.endpoint));
  try {
    const first = await waitForLeader(clients, 10_000);
    const leader = memberWithId(cluster.members, first.leader);
    const survivors = clients.filter((c) => c.endpoint !== leader.endpoint);
    for (let i = 0; i < 100; i++) await clients[i % 3]!.put(`warm${i}`, 'v');
    const killedAt = Date.now();
    await leader.kill9();
    const elected = waitForLeader(survivors, 20_000, (v) => v.leader !== first.leader && v.term > first.term).then(() => Date.now() - killedAt);
    let target = 0;
    let firstWriteMs = -1;
    for (let n = 0; firstWriteMs < 0 && Date.now() - killedAt < 20_000; n++) {
      try {
        await survivors[target]!.put(`after${n}`, 'v', 500);
        firstWriteMs = Date.now() - killedAt;
      } catch {
        target = (target + 1) % survivors.length;
        await sleep(5);
      }
    }
    return { electedMs: await elected, firstWriteMs };
  } finally {
    for (const c of clients) c.close();
    await cluster.destroy();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const medians = new Map<MemberKind, Failover>();
for (const kind of ['etcd-ts', 'etcd'] as const) {
  const skip = await clusterSkipReason(kind);
  if (skip !== undefined) {
    console.log(`${kind}: skipped: ${skip}`);
    continue;
  }
  const runs: Failover[] = [];
  for (let r = 0; r < rounds; r++) {
    const f = await failoverOnce(kind, r);
    console.log(`${kind} round ${r + 1}: new leader after ${f.electedMs} ms, first write after ${f.firstWriteMs} ms`);
    runs.push(f);
  }
  medians.set(kind, { electedMs: median(runs.map((f) => f.electedMs)), firstWriteMs: median(runs.map((f) => f.firstWriteMs)) });
}
for (const [kind, f] of medians) console.log(`${kind}: median kill -9 to new leader ${f.electedMs} ms, to first write ${f.firstWriteMs} ms`);
const ts = medians.get('etcd-ts');
const ref = medians.get('etcd');
if (ts !== undefined && ref !== undefined) console.log(`failover ratio etcd-ts/etcd (first write): ${(ts.firstWriteMs / ref.firstWriteMs).toFixed(2)}`);
