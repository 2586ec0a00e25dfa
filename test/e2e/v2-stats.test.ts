/**
 * /v2/stats/self and /v2/stats/leader on a 3-member cluster, etcd-ts against real etcd 3.4: the
 * same writes on each, then the bodies must have etcd's shape (fields, their order and types)
 * and real counters: the leader's MsgApps sent, each follower's MsgApps received, and per
 * follower on the leader the success count and latency of the MsgApps handed to it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { realEtcdSkipReason, startCluster, targetSkipReason, type Cluster, type MemberKind } from './harness/index.js';

const skip = (await targetSkipReason('etcd-ts')) ?? realEtcdSkipReason();

interface SelfStats {
  name: string;
  id: string;
  state: string;
  leaderInfo: { leader: string; uptime: string; startTime: string };
  recvAppendRequestCnt: number;
  sendAppendRequestCnt: number;
}

interface FollowerStats {
  latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
  counts: { fail: number; success: number };
}

/**
 * The shape of a JSON value: field names in order with the types of their values. The rates
 * (`...Rate`) are left out: etcd omits them whenever no message flowed in the last second.
 */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.entries(v).filter(([k]) => !k.endsWith('Rate')).map(([k, x]) => [k, shape(x)]);
  return typeof v;
}

interface Observed {
  self: SelfStats[];
  selfShapes: unknown[];
  leader: { leader: string; followers: Record<string, FollowerStats> };
  leaderShape: unknown;
  notLeader: { status: number; body: string }[];
}

async function observe(kind: MemberKind): Promise<Observed> {
  const c: Cluster = await startCluster(kind, 3, { extraArgs: ['--enable-v2'], namePrefix: 's' });
  try {
    const get = async (i: number, path: string): Promise<{ status: number; body: string }> => {
      const r = await fetch(`${c.members[i]!.clientUrl}${path}`);
      return { status: r.status, body: await r.text() };
    };
    let leaderIndex = -1;
    for (let attempt = 0; attempt < 50 && leaderIndex < 0; attempt++) {
      for (let i = 0; i < 3; i++) if ((JSON.parse((await get(i, '/v2/stats/self')).body) as SelfStats).state === 'StateLeader') leaderIndex = i;
      if (leaderIndex < 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(leaderIndex >= 0, 'a leader reports StateLeader');
    for (let k = 0; k < 10; k++) {
      const r = await fetch(`${c.members[leaderIndex]!.clientUrl}/v2/keys/s${k}`, { method: 'PUT', body: 'value=v', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      assert.ok(r.status === 201 || r.status === 200);
    }
    // Quiet: every MsgApp sent has been received before the counters are read.
    await new Promise((r) => setTimeout(r, 300));
    const selfBodies = await Promise.all([0, 1, 2].map((i) => get(i, '/v2/stats/self')));
    const self = selfBodies.map((b) => JSON.parse(b.body) as SelfStats);
    const leaderBody = await get(leaderIndex, '/v2/stats/leader');
    assert.equal(leaderBody.status, 200);
    const leader = JSON.parse(leaderBody.body) as Observed['leader'];
    const notLeader = await Promise.all([0, 1, 2].filter((i) => i !== leaderIndex).map((i) => get(i, '/v2/stats/leader')));
    const selfShapes = self.map(shape);
    return { self, selfShapes, leader, leaderShape: shape(Object.values(leader.followers)), notLeader };
  } finally {
    await c.destroy();
  }
}

function checkCounters(o: Observed): void {
  const leader = o.self.find((s) => s.state === 'StateLeader')!;
  const followers = o.self.filter((s) => s !== leader);
  assert.equal(followers.length, 2);
  assert.equal(leader.leaderInfo.leader, leader.id);
  assert.equal(o.leader.leader, leader.id);
  assert.ok(leader.sendAppendRequestCnt >= 20, `leader sent ${leader.sendAppendRequestCnt} MsgApps for 10 writes to 2 followers`);
  assert.equal(leader.recvAppendRequestCnt, 0);
  assert.deepEqual(Object.keys(o.leader.followers).sort(), followers.map((f) => f.id).sort());
  let sent = 0;
  for (const f of followers) {
    assert.equal(f.state, 'StateFollower');
    assert.equal(f.leaderInfo.leader, leader.id);
    assert.equal(f.sendAppendRequestCnt, 0);
    assert.ok(f.recvAppendRequestCnt >= 10, `follower ${f.name} received ${f.recvAppendRequestCnt}`);
    const fs = o.leader.followers[f.id]!;
    // A message queued while the peer's stream was still coming up counts as a failed send, yet
    // is delivered once the stream is up: together the two cover what the follower received.
    assert.ok(fs.counts.success + fs.counts.fail >= f.recvAppendRequestCnt, `success ${fs.counts.success} + fail ${fs.counts.fail} cover the ${f.recvAppendRequestCnt} received`);
    assert.ok(fs.latency.maximum >= fs.latency.average && fs.latency.average >= fs.latency.minimum && fs.latency.minimum >= 0);
    sent += fs.counts.success + fs.counts.fail;
  }
  assert.equal(sent, leader.sendAppendRequestCnt);
  for (const n of o.notLeader) assert.deepEqual(n, { status: 403, body: '{"message":"not current leader"}' });
}

describe('/v2/stats on a 3-member cluster', { skip }, () => {
  test('self and leader stats carry real MsgApp counters and follower latencies, in etcd 3.4’s shape', async () => {
    const want = await observe('etcd');
    const got = await observe('etcd-ts');
    checkCounters(want);
    checkCounters(got);
    assert.deepEqual(got.selfShapes, want.selfShapes);
    assert.deepEqual(got.leaderShape, want.leaderShape);
  });
});
