/**
 * A follower down during 50,000 writes rejoins through a snapshot (issue 4). The writes go in
 * transactions of 5 puts (10,000 raft entries: the file stays well under 90 s on etcd-ts too);
 * with `--snapshot-count=1000` the leader snapshots and keeps only 5,000 entries behind its
 * snapshot, far past the entries the follower lacks, so the follower can only catch up from one; it must then hold the same
 * data as the others (HashKV at one revision) and every acknowledged write. Runs on E2E_TARGET
 * (default etcd-ts); skips while etcd-ts cannot form a cluster.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, targetKind, type Cluster } from '../harness/index.js';
import { clusterSkipReason } from './cluster-probe.js';
import { assertConverged, memberWithId, TIMING_ARGS, waitForLeader } from './cluster-view.js';
import { MemberClient } from './member-client.js';
import { WriteLoad } from './write-load.js';

const kind = targetKind();
const skip = await clusterSkipReason(kind);

const WRITES = 50_000;

describe(`${kind}: a member down during ${WRITES} writes catches up through a snapshot`, { skip, timeout: 85_000 }, () => {
  let cluster: Cluster | undefined;
  const clients: MemberClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.destroy();
  });

  test('the restarted member converges to the same data', async (t) => {
    cluster = await startCluster(kind, 3, { token: 'snapshot-catch-up', extraArgs: [...TIMING_ARGS, '--snapshot-count=1000'] });
    for (const m of cluster.members) clients.push(new MemberClient(m.endpoint));
    const { leader } = await waitForLeader(clients, 10_000);
    const follower = cluster.members.find((m) => m.expectedId !== leader)!;
    const leaderClient = clients.find((c) => c.endpoint === memberWithId(cluster!.members, leader).endpoint)!;

    await follower.kill9();
    const started = Date.now();
    const result = await new WriteLoad([leaderClient], 'bulk/', 64, WRITES, 5_000, 5).finish();
    console.log(`${kind}: ${result.acked.size} writes acknowledged in ${Date.now() - started} ms with ${follower.name} down`);
    assert.ok(result.acked.size >= WRITES - result.failures && result.acked.size > 0.99 * WRITES, `only ${result.acked.size} writes acknowledged`);

    const restartedAt = Date.now();
    try {
      await follower.restart();
    } catch (err) {
      // While etcd-ts says outright that it cannot restore a leader's snapshot yet (issue 4 is in
      // progress), the failure is reported as TODO, not hidden: the test runs and fails in full
      // the day that message goes, unless the feature works.
      const gap = follower.logTail(400).split('\n').find((l) => l.includes('not supported yet'));
      if (kind === 'etcd-ts' && gap !== undefined) t.todo(`etcd-ts: ${/"error":"([^"]*)"/.exec(gap)?.[1] ?? gap}`);
      throw err;
    }
    const { revision } = await assertConverged(clients, 30_000);
    console.log(`${kind}: ${follower.name} converged at revision ${revision} ${Date.now() - restartedAt} ms after its restart`);
    assert.ok(revision >= result.maxRevision);
    const restarted = clients.find((c) => c.endpoint === follower.endpoint)!;
    const { kvs } = await restarted.getPrefix('bulk/', true);
    assert.equal(kvs.size, result.acked.size, 'the restarted member holds as many keys as were acknowledged');
    assert.equal([...result.acked].filter(([k, v]) => kvs.get(k) !== v).length, 0, 'every acknowledged write, with its value');
  });
});
