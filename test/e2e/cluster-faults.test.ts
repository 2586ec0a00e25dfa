/**
 * Multi-member clusters through the real etcdctl (issue 4): 3- and 5-member clusters on loopback
 * take writes on any member and serve linearizable and serializable reads on any member, list
 * their members, agree on one leader, raft term, revision and key-space hash, and hand leadership
 * over with move-leader. The fault tests (leader crash, partitions, snapshot catch-up) live in
 * cluster-faults/. Runs on E2E_TARGET (default etcd-ts); skips, with the reason, while etcd-ts
 * cannot form a 3-member cluster.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, startCluster, targetKind, type Cluster, type EtcdctlOptions } from './harness/index.js';
import { clusterSkipReason } from './cluster-faults/cluster-probe.js';
import { TIMING_ARGS } from './cluster-faults/cluster-view.js';

const kind = targetKind();
const skip = await clusterSkipReason(kind);

async function ok(endpoints: string | readonly string[], args: readonly string[], opts?: EtcdctlOptions): Promise<string> {
  const r = await etcdctl(endpoints, args, opts);
  assert.equal(r.code, 0, `etcdctl --endpoints=${String(endpoints)} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: number | string; revision: number; raft_term: number }; leader: number | string; raftIndex: number };
}

/** etcdctl prints 64-bit IDs in JSON as plain numbers, beyond 2^53; read them exactly. */
function parseExact<T>(json: string): T {
  return JSON.parse(json.replace(/("(?:member_id|leader|ID|cluster_id)":)\s*(\d+)/g, '$1"$2"')) as T;
}

async function endpointStatus(endpoints: readonly string[]): Promise<EndpointStatus[]> {
  return parseExact<EndpointStatus[]>(await ok(endpoints, ['endpoint', 'status', '--cluster', '-w', 'json']));
}

/** Polls `endpoint status --cluster` until all members agree on term and revision (followers apply a moment later). */
async function agreedStatus(endpoints: readonly string[], size: number): Promise<EndpointStatus[]> {
  const deadline = Date.now() + 10_000;
  let st: EndpointStatus[] = [];
  while (Date.now() < deadline) {
    st = await endpointStatus(endpoints);
    const terms = new Set(st.map((s) => s.Status.header.raft_term));
    const revs = new Set(st.map((s) => s.Status.header.revision));
    if (st.length === size && terms.size === 1 && revs.size === 1) return st;
    await new Promise((r) => setTimeout(r, 100));
  }
  return st;
}

for (const size of [3, 5]) {
  describe(`${kind}: ${size}-member cluster through etcdctl`, { skip, timeout: 60_000 }, () => {
    let cluster: Cluster;
    const clusters: Cluster[] = [];
    after(async () => {
      await Promise.all(clusters.map((c) => c.destroy()));
    });

    test('starts with every member healthy', async () => {
      cluster = await startCluster(kind, size, { token: `faults-${size}`, extraArgs: TIMING_ARGS });
      clusters.push(cluster);
      // etcdctl 3.4 prints the health lines on stderr.
      const r = await etcdctl(cluster.endpoints, ['endpoint', 'health', '--cluster']);
      assert.equal(r.code, 0, r.stderr);
      const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('is healthy: successfully committed proposal'));
      assert.deepEqual(lines.map((l) => l.split(' ')[0]).sort(), cluster.members.map((m) => m.clientUrl).sort());
    });

    test('a write on any member is read on every member, linearizable and serializable', async () => {
      for (const [i, writer] of cluster.endpoints.entries()) {
        await ok(writer, ['put', `key-from-${i}`, `value-${i}`]);
        for (const reader of cluster.endpoints) {
          // Linearizable first: once it answers, the reader has applied the write, so the
          // serializable read that follows must see it too.
          for (const consistency of ['l', 's']) {
            const out = await ok(reader, ['get', `key-from-${i}`, `--consistency=${consistency}`, '--print-value-only']);
            assert.equal(out, `value-${i}\n`, `member ${reader} (--consistency=${consistency}) reading the write made on ${writer}`);
          }
        }
      }
    });

    test('member list names every member with its ID and URLs', async () => {
      const out = parseExact<{ header: { cluster_id: string }; members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[] }[] }>(
        await ok(cluster.endpoints, ['member', 'list', '-w', 'json']),
      );
      assert.equal(BigInt(out.header.cluster_id), cluster.expectedClusterId);
      const got = out.members.map((m) => ({ id: BigInt(m.ID), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
      got.sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        got,
        cluster.members.map((m) => ({ id: m.expectedId, name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl] })),
      );
    });

    test('endpoint status: exactly one leader, one raft term and one revision on all members', async () => {
      const { stdout } = await etcdctl(cluster.endpoints, ['put', 'status-probe', 'x', '-w', 'json']);
      const putRevision = (JSON.parse(stdout) as { header: { revision: number } }).header.revision;
      const st = await agreedStatus(cluster.endpoints, size);
      assert.equal(st.length, size);
      const leaders = st.filter((s) => s.Status.leader === s.Status.header.member_id);
      assert.equal(leaders.length, 1, `leaders: ${JSON.stringify(st.map((s) => [s.Endpoint, s.Status.leader]))}`);
      assert.equal(new Set(st.map((s) => s.Status.leader)).size, 1, 'every member names the same leader');
      assert.deepEqual(new Set(st.map((s) => s.Status.header.raft_term)).size, 1, 'one raft term');
      assert.deepEqual([...new Set(st.map((s) => s.Status.header.revision))], [putRevision], 'every member at the revision of the last write');
      const hashes = JSON.parse(await ok(cluster.endpoints, ['endpoint', 'hashkv', '--cluster', '-w', 'json'])) as { HashKV: { hash: number } }[];
      assert.equal(hashes.length, size);
      assert.equal(new Set(hashes.map((h) => h.HashKV.hash)).size, 1, `hashkv differs: ${JSON.stringify(hashes)}`);
    });

    test('move-leader hands leadership to the named follower, and writes go on', async () => {
      const before = await agreedStatus(cluster.endpoints, size);
      const oldLeader = before[0]!.Status.leader;
      const target = before.find((s) => s.Status.header.member_id !== oldLeader)!;
      const targetHex = BigInt(target.Status.header.member_id).toString(16);
      const out = await ok(cluster.endpoints, ['move-leader', targetHex]);
      assert.match(out, new RegExp(`Leadership transferred from ${BigInt(oldLeader).toString(16)} to ${targetHex}`));
      const after = await agreedStatus(cluster.endpoints, size);
      assert.deepEqual(
        after.map((s) => s.Status.leader),
        after.map(() => target.Status.header.member_id),
        'every member names the new leader',
      );
      assert.ok(after[0]!.Status.header.raft_term > before[0]!.Status.header.raft_term, 'the transfer began a new term');
      await ok(cluster.endpoints, ['put', 'after-move', 'ok']);
      assert.equal(await ok(cluster.endpoints[0]!, ['get', 'after-move', '--print-value-only']), 'ok\n');
    });
  });
}
