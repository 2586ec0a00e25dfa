import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage, type Message } from '../api/raftpb/types.js';
import { seededRand } from '../pkg/rand.js';
import type { RaftConfig } from './config.js';
import { RawNode } from './raw-node.js';
import { StateType } from './ready.js';
import { storageWith, testConfig, TestNetwork } from './test-network.js';

// Takes the messages the node produced so far.
function drain(n: RawNode): Message[] {
  const msgs = n.raft.msgs;
  n.raft.msgs = [];
  return msgs;
}

function node(id: bigint, voters: bigint[], terms: number[] = [], overrides: Partial<RaftConfig> = {}, term = 0): RawNode {
  const hs = term > 0 ? { term, vote: 0n, commit: 0 } : undefined;
  return new RawNode(testConfig(id, storageWith(voters, terms, hs), overrides));
}

const types = (ms: Message[]): string[] => ms.map((m) => `${m.from}->${m.to} ${MessageType[m.type]} t${m.term}${m.reject ? ' reject' : ''}`);

test('a follower that hears nothing for an election timeout becomes candidate, bumps its term and votes for itself (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n]);
  for (let i = 0; i < 2 * 10; i++) n.tick();
  const r = n.raft;
  assert.equal(r.state, StateType.StateCandidate);
  assert.equal(r.term, 1);
  assert.equal(r.vote, 1n);
  assert.deepEqual(types(drain(n)), ['1->2 MsgVote t1', '1->3 MsgVote t1']);
});

test('election timeouts are randomized in [electionTick, 2*electionTick) (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n], [], { rand: seededRand(7) });
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    n.raft.resetRandomizedElectionTimeout();
    const t = n.raft.randomizedElectionTimeout;
    assert.ok(t >= 10 && t < 20, `timeout ${t} out of range`);
    seen.add(t);
  }
  assert.ok(seen.size >= 8, 'timeouts should spread over the range');
});

test('a candidate with votes from a majority becomes leader and appends an empty entry of its term (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n, 4n, 5n]);
  n.campaign();
  drain(n);
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  assert.equal(n.raft.state, StateType.StateCandidate);
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 1, reject: true }));
  assert.equal(n.raft.state, StateType.StateCandidate);
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 4n, to: 1n, term: 1 }));
  assert.equal(n.raft.state, StateType.StateLeader);
  assert.equal(n.raft.raftLog.lastIndex(), 1);
  assert.equal(n.raft.raftLog.lastTerm(), 1);
});

test('a candidate rejected by a majority returns to follower (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n]);
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1, reject: true }));
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 1, reject: true }));
  assert.equal(n.raft.state, StateType.StateFollower);
  assert.equal(n.raft.term, 1);
});

test('a single voter elects itself at once', () => {
  const n = node(1n, [1n]);
  n.campaign();
  assert.equal(n.raft.state, StateType.StateLeader);
  assert.equal(n.raft.term, 1);
});

test('a node grants at most one vote per term, first come first served (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n]);
  n.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 1 }));
  n.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 1 }));
  // A repeated request from the same candidate is granted again (its response may have been lost).
  n.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 1 }));
  assert.deepEqual(types(drain(n)), ['1->2 MsgVoteResp t1', '1->3 MsgVoteResp t1 reject', '1->2 MsgVoteResp t1']);
  assert.equal(n.raft.vote, 2n);
});

test('follower rejects vote for a candidate with an older log (§5.4.1)', () => {
  // Our log: terms [1, 1, 2] (last index 3, last term 2).
  const cases: Array<[number, number, boolean]> = [
    [3, 1, false], // older last term, longer log: still older
    [2, 2, false], // same last term, shorter
    [3, 2, true], // same last term, same length
    [4, 2, true], // same last term, longer
    [1, 3, true], // newer last term wins whatever the length
  ];
  for (const [index, logTerm, granted] of cases) {
    const n = node(1n, [1n, 2n, 3n], [1, 1, 2], {}, 2);
    n.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3, index, logTerm }));
    const [resp] = drain(n);
    assert.equal(resp!.type, MessageType.MsgVoteResp);
    assert.equal(!resp!.reject, granted, `candidate log ${logTerm}/${index}`);
    assert.equal(n.raft.term, 3, 'the higher term is adopted either way (§5.1)');
    assert.equal(n.raft.vote, granted ? 2n : 0n);
  }
});

test('a higher term makes leader and candidate step down to follower (§5.1)', () => {
  const leader = node(1n, [1n, 2n, 3n]);
  leader.campaign();
  leader.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  assert.equal(leader.raft.state, StateType.StateLeader);
  leader.step(newMessage({ type: MessageType.MsgApp, from: 3n, to: 1n, term: 2 }));
  assert.equal(leader.raft.state, StateType.StateFollower);
  assert.equal(leader.raft.term, 2);
  assert.equal(leader.raft.lead, 3n);

  const cand = node(1n, [1n, 2n, 3n]);
  cand.campaign();
  cand.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 5, index: 0, logTerm: 0 }));
  assert.equal(cand.raft.state, StateType.StateFollower);
  assert.equal(cand.raft.term, 5);
  assert.equal(cand.raft.lead, 0n);
});

test('a candidate that hears from a leader of its own term becomes its follower (§5.2)', () => {
  const n = node(1n, [1n, 2n, 3n]);
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  assert.equal(n.raft.state, StateType.StateFollower);
  assert.equal(n.raft.lead, 2n);
});

test('messages of a lower term are ignored (§5.1)', () => {
  const n = node(1n, [1n, 2n, 3n], [], {}, 2);
  n.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1, entries: [] }));
  n.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 1 }));
  assert.deepEqual(drain(n), []);
  assert.equal(n.raft.term, 2);
  assert.equal(n.raft.lead, 0n);
});

test('with check-quorum, a lower-term append is answered so the stale leader learns the newer term', () => {
  const n = node(1n, [1n, 2n, 3n], [], { checkQuorum: true }, 2);
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  assert.deepEqual(types(drain(n)), ['1->2 MsgAppResp t2']);
  // The stale leader steps down when it sees the higher term.
  const old = node(2n, [1n, 2n, 3n], [], { checkQuorum: true });
  old.campaign();
  old.step(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 2n, term: 1 }));
  assert.equal(old.raft.state, StateType.StateLeader);
  old.step(newMessage({ type: MessageType.MsgAppResp, from: 1n, to: 2n, term: 2 }));
  assert.equal(old.raft.state, StateType.StateFollower);
  assert.equal(old.raft.term, 2);
});

test('a lower-term pre-vote is rejected with the current term', () => {
  const n = node(1n, [1n, 2n, 3n], [], { preVote: true }, 3);
  n.step(newMessage({ type: MessageType.MsgPreVote, from: 2n, to: 1n, term: 2 }));
  assert.deepEqual(types(drain(n)), ['1->2 MsgPreVoteResp t3 reject']);
});

test('election safety: at most one leader per term under random partitions and timeouts (§5.2)', () => {
  for (const preVote of [false, true]) {
    const ids = [1n, 2n, 3n, 4n, 5n];
    const net = new TestNetwork(ids, { preVote, checkQuorum: preVote, seed: 11 });
    const rand = seededRand(99);
    const leaders = new Map<number, bigint>();
    for (let round = 0; round < 400; round++) {
      if (round % 25 === 0) {
        net.recover();
        for (let k = 0; k < 3; k++) net.cut(ids[rand.intn(5)]!, ids[rand.intn(5)]!);
        if (rand.intn(3) === 0) net.isolate(ids[rand.intn(5)]!);
      }
      for (const id of ids) if (rand.intn(5) !== 0) net.tick(id);
      net.stabilize();
      for (const p of net.peers.values()) {
        const r = p.node.raft;
        if (r.state !== StateType.StateLeader) continue;
        const prev = leaders.get(r.term);
        assert.ok(prev === undefined || prev === p.id, `two leaders in term ${r.term}: ${prev} and ${p.id}`);
        leaders.set(r.term, p.id);
      }
    }
    assert.ok(leaders.size > 1, 'the partitions should have caused several elections');
  }
});

test('pre-vote does not bump terms of a partitioned node', () => {
  const net = new TestNetwork([1n, 2n, 3n], { preVote: true });
  net.campaign(1n);
  assert.equal(net.leader(), 1n);
  net.isolate(3n);
  net.tick(3n, 100);
  net.stabilize();
  const r3 = net.node(3n).raft;
  assert.equal(r3.term, 1, 'the isolated node keeps polling at its old term');
  assert.equal(r3.state, StateType.StatePreCandidate);
  net.recover();
  net.propose(1n, 'x');
  assert.equal(net.leader(), 1n, 'the rejoining node does not disrupt the leader');
  assert.equal(net.node(1n).raft.term, 1);
  assert.equal(r3.state, StateType.StateFollower);
});

test('without pre-vote a rejoining partitioned node forces a new election with its higher term', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.tick(3n, 100);
  net.stabilize();
  assert.ok(net.node(3n).raft.term > 1);
  net.recover();
  // The stuck candidate times out again and its vote requests carry the higher term.
  net.tickAll(25);
  assert.ok(net.node(1n).raft.term > 1, 'the old leader adopted the higher term');
});

test('pre-candidate becomes candidate after a pre-vote quorum, then leader', () => {
  const n = node(1n, [1n, 2n, 3n], [], { preVote: true });
  n.campaign();
  assert.equal(n.raft.state, StateType.StatePreCandidate);
  assert.equal(n.raft.term, 0);
  assert.deepEqual(types(drain(n)), ['1->2 MsgPreVote t1', '1->3 MsgPreVote t1']);
  n.step(newMessage({ type: MessageType.MsgPreVoteResp, from: 2n, to: 1n, term: 1 }));
  assert.equal(n.raft.state, StateType.StateCandidate);
  assert.equal(n.raft.term, 1);
  assert.deepEqual(types(drain(n)), ['1->2 MsgVote t1', '1->3 MsgVote t1']);
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 1 }));
  assert.equal(n.raft.state, StateType.StateLeader);
});

test('a pre-vote is granted for a future term without changing the voter state', () => {
  const n = node(1n, [1n, 2n, 3n], [], { preVote: true }, 1);
  n.step(newMessage({ type: MessageType.MsgPreVote, from: 2n, to: 1n, term: 2 }));
  assert.deepEqual(types(drain(n)), ['1->2 MsgPreVoteResp t2']);
  assert.equal(n.raft.term, 1);
  assert.equal(n.raft.vote, 0n);
});

test('leader steps down when it loses quorum (check-quorum)', () => {
  const net = new TestNetwork([1n, 2n, 3n], { checkQuorum: true });
  net.campaign(1n);
  assert.equal(net.leader(), 1n);
  // Healthy: heartbeats keep the quorum active over many election timeouts.
  net.tickAll(30);
  assert.equal(net.node(1n).raft.state, StateType.StateLeader);
  net.isolate(1n);
  net.tick(1n, 2 * 10 + 1);
  net.stabilize();
  assert.equal(net.node(1n).raft.state, StateType.StateFollower);
});

test('followers ignore vote requests within the leader lease (check-quorum)', () => {
  const n = node(1n, [1n, 2n, 3n], [], { checkQuorum: true }, 1);
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  drain(n);
  n.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2, index: 5, logTerm: 1 }));
  assert.deepEqual(drain(n), [], 'no answer within the lease');
  assert.equal(n.raft.term, 1, 'the term is not updated');
  // Once the lease has run out (an election timeout without the leader), the vote is considered.
  for (let i = 0; i < 10; i++) n.raft.electionElapsed++;
  n.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2, index: 5, logTerm: 1 }));
  assert.deepEqual(types(drain(n)), ['1->3 MsgVoteResp t2']);
});

test('a leader-transfer vote bypasses the lease', () => {
  const n = node(1n, [1n, 2n, 3n], [], { checkQuorum: true }, 1);
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  drain(n);
  const ctx = new TextEncoder().encode('CampaignTransfer');
  n.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2, index: 5, logTerm: 1, context: ctx }));
  assert.deepEqual(types(drain(n)), ['1->3 MsgVoteResp t2']);
});

test('a learner never campaigns', () => {
  const net = new TestNetwork([1n, 2n], { learners: [3n] });
  net.tick(3n, 100);
  net.stabilize();
  assert.equal(net.node(3n).raft.state, StateType.StateFollower);
  assert.equal(net.node(3n).raft.term, 0);
  net.node(3n).campaign();
  assert.equal(net.node(3n).raft.state, StateType.StateFollower);
});

test('a node elected leader keeps leading while it can reach a quorum; others follow it', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.tickAll(40);
  const lead = net.leader();
  assert.notEqual(lead, 0n);
  for (const p of net.peers.values()) assert.equal(p.node.raft.lead, lead);
});
