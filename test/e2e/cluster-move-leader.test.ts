/**
 * Leadership transfer on a 3-member cluster (issue 4): `etcdctl move-leader` hands leadership to
 * the named voter (refused for an unknown member, with etcd's text), and a
 * leader stopped with SIGTERM hands over before it exits, so the others need not wait out an
 * election timeout. The election timeout is long (5 s) so an election after it would show; the
 * time to the new leader is printed. Runs on E2E_TARGET (default etcd-ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, startCluster, targetKind, type Cluster } from './harness/index.js';
import { clusterSkipReason } from './cluster-faults/cluster-probe.js';
import { memberWithId, waitForLeader } from './cluster-faults/cluster-view.js';
import { MemberClient } from './cluster-faults/member-client.js';

const kind = targetKind();
const skip = await clusterSkipReason(kind);
const ELECTION_MS = 5_000;

describe(`${kind}: leadership transfer`, { skip, timeout: 60_000 }, () => {
  let cluster: Cluster | undefined;
  const clients: MemberClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.destroy();
  });

  test('move-leader hands over to the target; a SIGTERM-stopped leader hands over before exiting', async () => {
    cluster = await startCluster(kind, 3, { token: 'move-leader', extraArgs: ['--heartbeat-interval=100', `--election-timeout=${ELECTION_MS}`] });
    for (const m of cluster.members) clients.push(new MemberClient(m.endpoint));
    const first = await waitForLeader(clients, 20_000);
    const leader = memberWithId(cluster.members, first.leader);
    const [target, other] = cluster.members.filter((m) => m !== leader);

    // etcdctl itself sends move-leader to the leader only (it refuses endpoints without it).
    const onFollower = await etcdctl(target!.endpoint, ['move-leader', other!.expectedId.toString(16)]);
    assert.notEqual(onFollower.code, 0);
    const unknown = await etcdctl(cluster.endpoints, ['move-leader', 'abcdef']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /etcdserver: bad leader transferee/);

    const movedAt = Date.now();
    const moved = await etcdctl(cluster.endpoints, ['move-leader', target!.expectedId.toString(16)]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /Leadership transferred from \S+ to \S+/);
    const second = await waitForLeader(clients, 10_000, (v) => v.leader === target!.expectedId);
    console.log(`${kind}: move-leader took ${Date.now() - movedAt} ms (term ${first.term} -> ${second.term})`);

    const stoppedAt = Date.now();
    await target!.stop();
    const rest = clients.filter((c) => c.endpoint !== target!.endpoint);
    const third = await waitForLeader(rest, 3 * ELECTION_MS, (v) => v.leader !== target!.expectedId);
    const took = Date.now() - stoppedAt;
    console.log(`${kind}: a new leader ${took} ms after SIGTERM to the leader (election timeout ${ELECTION_MS} ms)`);
    assert.ok(took < ELECTION_MS, `the new leader came only after ${took} ms: no handover before stopping`);
    assert.equal(third.term, second.term + 1, 'one term: a transfer, not rounds of elections');
  });
});
