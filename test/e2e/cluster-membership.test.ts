/**
 * Runtime reconfiguration through the real etcdctl (issue 4), on etcd-ts and on real etcd with
 * the same steps and the same expectations (etcdctl's own output formats and etcd's error texts):
 * a learner is added, a second learner refused, the learner started with
 * `--initial-cluster-state existing` from what `member add` printed, promoted once in sync,
 * updated, listed, and removed, after which the removed member stops by itself.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { etcdctl, freePorts, startCluster, startMember, type Cluster, type Member, type MemberKind } from './harness/index.js';
import { clusterSkipReason } from './cluster-faults/cluster-probe.js';

const TOKEN = 'membership-e2e';

/** The `ETCD_*="..."` lines `etcdctl member add` prints for the new member's configuration. */
function printedConfig(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.matchAll(/^(ETCD_[A-Z_]+)="(.*)"$/gm)) out[m[1]!] = m[2]!;
  return out;
}

interface ListedMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/** `member list -w json`, with the 64-bit IDs kept exact (etcdctl prints them as bare numbers). */
async function memberList(endpoints: readonly string[]): Promise<ListedMember[]> {
  const r = await etcdctl(endpoints, ['member', 'list', '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const exact = r.stdout.replace(/"ID":(\d+)/g, '"ID":"$1"');
  return (JSON.parse(exact) as { members: ListedMember[] }).members;
}

const hex = (decimal: string): string => BigInt(decimal).toString(16);

async function retry(what: string, ms: number, attempt: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await attempt())) {
    if (Date.now() > end) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const kind of ['etcd-ts', 'etcd'] as MemberKind[]) {
  const skip = await clusterSkipReason(kind);
  describe(`${kind}: membership changes through etcdctl`, { skip, timeout: 90_000 }, () => {
    let cluster: Cluster | undefined;
    let learner: Member | undefined;
    after(async () => {
      await learner?.destroy();
      await cluster?.destroy();
    });

    test('add a learner, start it, promote, update, remove: the removed member stops', async () => {
      cluster = await startCluster(kind, 3, { token: TOKEN, namePrefix: 'v' });
      const eps = cluster.endpoints;
      const [clientPort, peerPort] = await freePorts(2);
      const peerUrl = `http://127.0.0.1:${peerPort}`;

      // Both refuse a change until every member has been connected for 5 s ('unhealthy cluster').
      let added = await etcdctl(eps, ['member', 'add', 'newbie', '--learner', `--peer-urls=${peerUrl}`]);
      if (added.code !== 0) assert.match(added.stderr, /etcdserver: unhealthy cluster/);
      await retry('member add', 15_000, async () => {
        if (added.code === 0) return true;
        added = await etcdctl(eps, ['member', 'add', 'newbie', '--learner', `--peer-urls=${peerUrl}`]);
        return added.code === 0;
      });
      const addedId = /^Member\s+([0-9a-f]+) added to cluster\s+([0-9a-f]+)$/m.exec(added.stdout);
      assert.ok(addedId !== null, added.stdout);
      assert.equal(addedId[2], cluster.expectedClusterId.toString(16));
      // etcdctl prints IDs with %16x: shorter ones are padded with spaces.
      const config = printedConfig(added.stdout);
      assert.equal(config.ETCD_NAME, 'newbie');
      assert.equal(config.ETCD_INITIAL_ADVERTISE_PEER_URLS, peerUrl);
      assert.equal(config.ETCD_INITIAL_CLUSTER_STATE, 'existing');
      assert.ok(config.ETCD_INITIAL_CLUSTER?.includes(`newbie=${peerUrl}`), config.ETCD_INITIAL_CLUSTER);

      // One learner at a time by default. The health check comes first in both, and a peer stream
      // that reconnected on a busy machine makes it answer 'unhealthy cluster' for 5 s: wait that out.
      let second = await etcdctl(eps, ['member', 'add', 'another', '--learner', '--peer-urls=http://127.0.0.1:1']);
      await retry('a learner add judged on the learner count', 15_000, async () => {
        if (!/etcdserver: unhealthy cluster/.test(second.stderr)) return true;
        second = await etcdctl(eps, ['member', 'add', 'another', '--learner', '--peer-urls=http://127.0.0.1:1']);
        return false;
      });
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /etcdserver: too many learner members in cluster/);
      // A learner that has not caught up (it is not even started) cannot be promoted.
      const early = await etcdctl(eps, ['member', 'promote', addedId[1]!]);
      assert.notEqual(early.code, 0);
      assert.match(early.stderr, /etcdserver: can only promote a learner member which is in sync with leader/);

      learner = await startMember(kind, {
        name: 'newbie',
        clientPort,
        peerPort,
        initialCluster: config.ETCD_INITIAL_CLUSTER,
        initialClusterToken: TOKEN,
        initialClusterState: 'existing',
      });
      let listed = await memberList(eps);
      const entry = listed.find((m) => hex(m.ID) === addedId[1]);
      assert.ok(entry !== undefined, JSON.stringify(listed));
      assert.equal(entry.isLearner, true);
      assert.deepEqual(entry.peerURLs, [peerUrl]);

      let promoted = '';
      await retry('promotion of the caught-up learner', 20_000, async () => {
        const r = await etcdctl(eps, ['member', 'promote', addedId[1]!]);
        promoted = r.stdout;
        return r.code === 0;
      });
      assert.match(promoted, new RegExp(`^Member\\s+${addedId[1]} promoted in cluster\\s+${addedId[2]}$`, 'm'));
      listed = await memberList(eps);
      assert.equal(listed.length, 4);
      assert.ok(listed.every((m) => m.isLearner !== true), 'no learner left');
      // The promoted member serves linearizable reads now.
      const put = await etcdctl(eps, ['put', 'after-promote', 'yes']);
      assert.equal(put.code, 0, put.stderr);
      await retry('a linearizable read on the promoted member', 10_000, async () => {
        const r = await etcdctl(learner!.endpoint, ['get', 'after-promote', '--print-value-only']);
        return r.code === 0 && r.stdout === 'yes\n';
      });

      const updated = await etcdctl(eps, ['member', 'update', addedId[1]!, `--peer-urls=${peerUrl}`]);
      assert.equal(updated.code, 0, updated.stderr);
      assert.match(updated.stdout, new RegExp(`^Member\\s+${addedId[1]} updated in cluster\\s+${addedId[2]}$`, 'm'));
      const taken = await etcdctl(eps, ['member', 'update', addedId[1]!, `--peer-urls=${cluster.members[0]!.peerUrl}`]);
      assert.notEqual(taken.code, 0);
      assert.match(taken.stderr, /etcdserver: Peer URLs already exists/);

      const removed = await etcdctl(eps, ['member', 'remove', addedId[1]!]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, new RegExp(`^Member\\s+${addedId[1]} removed from cluster\\s+${addedId[2]}$`, 'm'));
      await retry('the removed member stopping by itself', 20_000, () => Promise.resolve(!learner!.running));
      listed = await memberList(eps);
      assert.deepEqual(listed.map((m) => m.name).sort(), ['v0', 'v1', 'v2']);
      const unknown = await etcdctl(eps, ['member', 'remove', addedId[1]!]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /etcdserver: member not found/);
    });
  });
}
