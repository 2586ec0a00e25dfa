/**
 * A minority cut off from a 3-member cluster (issue 4), two ways:
 * - the leader frozen with SIGSTOP: the majority elects a new leader and takes writes, a request
 *   to the frozen member times out, and after SIGCONT the old leader is a follower holding the
 *   majority's writes;
 * - the leader running but cut off from its peers by PeerProxy: it steps down (Raft §6.2, check
 *   quorum), serves no write and no linearizable read (a serializable read still answers, stale),
 *   while the majority goes on; after healing all members converge.
 * Runs on E2E_TARGET (default etcd-ts); skips while etcd-ts cannot form a cluster.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, startCluster, targetKind, type Cluster } from '../harness/index.js';
import { clusterSkipReason } from './cluster-probe.js';
import { assertConverged, ELECTION_MS, memberWithId, TIMING_ARGS, waitForLeader, waitForStatus } from './cluster-view.js';
import { MemberClient } from './member-client.js';
import { startProxiedCluster, type ProxiedCluster } from './proxied-cluster.js';

const kind = targetKind();
const skip = await clusterSkipReason(kind);

function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('Error:')) ?? stderr.trim().split('\n')[0] ?? '';
}

describe(`${kind}: a minority partitioned away`, { skip, timeout: 80_000 }, () => {
  const clients: MemberClient[] = [];
  const teardown: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(teardown.map((f) => f()));
  });

  test('SIGSTOP of the leader: the majority elects and writes, the frozen member times out, then rejoins as a follower', async () => {
    const cluster: Cluster = await startCluster(kind, 3, { token: 'partition-stop', extraArgs: TIMING_ARGS });
    teardown.push(() => cluster.destroy());
    const all = cluster.members.map((m) => new MemberClient(m.endpoint));
    clients.push(...all);
    await etcdctl(cluster.endpoints, ['put', 'x', 'before']);
    const first = await waitForLeader(all, 10_000);
    const old = memberWithId(cluster.members, first.leader);
    const oldClient = all.find((c) => c.endpoint === old.endpoint)!;
    const majority = all.filter((c) => c !== oldClient);
    const majorityEndpoints = cluster.endpoints.filter((e) => e !== old.endpoint);

    old.sigstop();
    const next = await waitForLeader(majority, 6 * ELECTION_MS, (v) => v.leader !== first.leader && v.term > first.term);
    const put = await etcdctl(majorityEndpoints, ['put', 'x', 'during'], { timeoutMs: 10_000 });
    assert.equal(put.code, 0, `the majority must take writes: ${put.stderr}`);
    const frozen = await etcdctl(old.endpoint, ['--command-timeout=2s', 'get', 'x'], { timeoutMs: 8_000 });
    assert.notEqual(frozen.code, 0, 'a frozen member answers nothing');
    assert.match(errorLine(frozen.stderr), /context deadline exceeded/, frozen.stderr);

    old.sigcont();
    const rejoined = await waitForStatus(oldClient, 5 * ELECTION_MS, (s) => s.leader === next.leader);
    assert.notEqual(rejoined.leader, rejoined.memberId, 'the old leader came back as a follower');
    const read = await etcdctl(old.endpoint, ['get', 'x', '--print-value-only']);
    assert.equal(read.stdout, 'during\n', 'a linearizable read on the old leader sees the majority\'s write');
    await assertConverged(all, 10_000);
  });

  test('leader cut off by the proxy: it steps down and serves no write or linearizable read; after healing all converge', async () => {
    const cluster: ProxiedCluster = await startProxiedCluster(kind, 3, { token: 'partition-proxy', extraArgs: TIMING_ARGS });
    teardown.push(() => cluster.destroy());
    const all = cluster.members.map((m) => new MemberClient(m.endpoint));
    clients.push(...all);
    const ok = await etcdctl(cluster.endpoints, ['put', 'x', 'before']);
    assert.equal(ok.code, 0, ok.stderr);
    const first = await waitForLeader(all, 10_000);
    const old = memberWithId(cluster.members, first.leader);
    const oldClient = all.find((c) => c.endpoint === old.endpoint)!;
    const majority = all.filter((c) => c !== oldClient);
    const majorityEndpoints = cluster.endpoints.filter((e) => e !== old.endpoint);

    cluster.partition([[old]]);
    await waitForLeader(majority, 6 * ELECTION_MS, (v) => v.leader !== first.leader && v.term > first.term);
    const put = await etcdctl(majorityEndpoints, ['put', 'x', 'majority'], { timeoutMs: 10_000 });
    assert.equal(put.code, 0, `the majority must take writes: ${put.stderr}`);

    // Raft §6.2 (check quorum): a leader that hears from no majority for an election timeout steps down.
    const stepped = await waitForStatus(oldClient, 4 * ELECTION_MS, (s) => s.leader !== s.memberId);
    assert.notEqual(stepped.leader, first.leader);
    const write = await etcdctl(old.endpoint, ['--command-timeout=3s', 'put', 'x', 'minority'], { timeoutMs: 10_000 });
    assert.notEqual(write.code, 0, `the cut-off member took a write: ${write.stdout}`);
    const linearizable = await etcdctl(old.endpoint, ['--command-timeout=3s', 'get', 'x'], { timeoutMs: 10_000 });
    assert.notEqual(linearizable.code, 0, `the cut-off member served a linearizable read: ${linearizable.stdout}`);
    assert.match(errorLine(linearizable.stderr), /^Error: (context deadline exceeded|etcdserver: )/, linearizable.stderr);
    const serializable = await etcdctl(old.endpoint, ['get', 'x', '--consistency=s', '--print-value-only']);
    assert.equal(serializable.stdout, 'before\n', 'a serializable read answers from the stale local store');

    cluster.heal();
    await waitForLeader(all, 6 * ELECTION_MS);
    const { revision } = await assertConverged(all, 15_000);
    const healed = await etcdctl(old.endpoint, ['get', 'x', '--print-value-only']);
    assert.equal(healed.stdout, 'majority\n', `the healed member sees the majority's write (converged at revision ${revision})`);
  });
});
