/**
 * Auth state travels in a leader's snapshot: a follower down while users, roles and permissions
 * are created and while 7,000 more entries are written (the leader, with `--snapshot-count=1000`,
 * keeps only 5,000 entries behind its snapshot) can only catch up from a snapshot; once auth is
 * then enabled, that follower must authenticate the users and enforce their permissions.
 * Runs on E2E_TARGET (default etcd-ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, startCluster, targetKind, type Cluster, type Member } from './harness/index.js';
import { clusterSkipReason } from './cluster-faults/cluster-probe.js';
import { assertConverged, memberWithId, TIMING_ARGS, waitForLeader } from './cluster-faults/cluster-view.js';
import { MemberClient } from './cluster-faults/member-client.js';
import { WriteLoad } from './cluster-faults/write-load.js';

const kind = targetKind();
const skip = await clusterSkipReason(kind);
const WRITES = 7_000;

describe(`${kind}: users and roles reach a member that catches up through a snapshot`, { skip, timeout: 90_000 }, () => {
  let cluster: Cluster | undefined;
  const clients: MemberClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.destroy();
  });

  test('the restarted follower authenticates and enforces permissions', async () => {
    cluster = await startCluster(kind, 3, { token: 'auth-snapshot', extraArgs: [...TIMING_ARGS, '--snapshot-count=1000'] });
    for (const m of cluster.members) clients.push(new MemberClient(m.endpoint));
    const { leader } = await waitForLeader(clients, 10_000);
    const leaderMember = memberWithId(cluster.members, leader);
    const follower = cluster.members.find((m) => m.expectedId !== leader)!;
    const ctl = async (m: Member, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => etcdctl(m.endpoint, args);
    const ok = async (m: Member, args: string[]): Promise<string> => {
      const r = await ctl(m, args);
      assert.equal(r.code, 0, `${args.join(' ')} on ${m.name}: ${r.stderr}`);
      return r.stdout;
    };

    await follower.kill9();
    for (const args of [
      ['user', 'add', 'root:rootpw'],
      ['user', 'add', 'u:pw'],
      ['role', 'add', 'r'],
      ['role', 'grant-permission', 'r', 'readwrite', 'mine/', '--prefix'],
      ['user', 'grant-role', 'u', 'r'],
    ]) {
      await ok(leaderMember, args);
    }
    const leaderClient = clients.find((c) => c.endpoint === leaderMember.endpoint)!;
    const result = await new WriteLoad([leaderClient], 'bulk/', 32, WRITES, 5_000).finish();
    assert.ok(result.acked.size > 0.99 * WRITES, `only ${result.acked.size} writes acknowledged`);

    await follower.restart();
    await assertConverged(clients, 30_000);
    assert.match(follower.logTail(5000), /applied snapshot|restored snapshot/, 'the follower caught up through a snapshot');
    // Enabled after converging (HashKV needs the root role once auth is on); users and roles came in the snapshot.
    await ok(leaderMember, ['auth', 'enable']);
    await ok(follower, ['put', 'mine/a', '1', '--user', 'u:pw']);
    assert.equal(await ok(follower, ['get', 'mine/a', '--print-value-only', '--user', 'u:pw']), '1\n');
    assert.match((await ctl(follower, ['put', 'bulk/x', '1', '--user', 'u:pw'])).stderr, /permission denied/);
    assert.match((await ctl(follower, ['get', 'mine/a'])).stderr, /user name is empty/);
    assert.equal(await ok(follower, ['user', 'list', '--user', 'root:rootpw']), 'root\nu\n');
  });
});
