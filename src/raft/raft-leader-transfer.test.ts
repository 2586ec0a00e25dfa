import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../api/raftpb/types.js';
import { StateType } from './ready.js';
import { TestNetwork } from './test-network.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('leader transfer to an up-to-date follower sends MsgTimeoutNow and the follower wins', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.node(1n).transferLeader(2n);
  net.stabilize();
  assert.equal(net.leader(), 2n);
  assert.equal(net.node(1n).raft.state, StateType.StateFollower);
  assert.equal(net.node(2n).raft.term, 2);
  const timeoutNow = net.sent.filter((m) => m.type === MessageType.MsgTimeoutNow);
  assert.equal(timeoutNow.length, 1);
  assert.equal(timeoutNow[0]!.to, 2n);
});

test('leader transfer to a lagging follower first catches it up', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.propose(1n, 'a');
  net.propose(1n, 'b');
  net.recover();
  net.node(1n).transferLeader(3n);
  assert.equal(net.node(1n).raft.leadTransferee, 3n);
  net.stabilize();
  assert.equal(net.leader(), 3n);
  assert.equal(net.node(3n).raft.raftLog.lastIndex() >= 3, true);
});

test('proposals are dropped while a transfer is in progress', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.node(1n).transferLeader(3n);
  assert.equal(net.node(1n).propose(enc('x')), 'proposal-dropped');
});

test('a transfer that does not finish within an election timeout is aborted', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.node(1n).transferLeader(3n);
  net.tick(1n, 9);
  assert.equal(net.node(1n).raft.leadTransferee, 3n);
  net.tick(1n, 1);
  assert.equal(net.node(1n).raft.leadTransferee, 0n);
  assert.equal(net.node(1n).raft.state, StateType.StateLeader);
  assert.equal(net.node(1n).propose(enc('x')), undefined, 'proposals are accepted again');
});

test('a transfer to the leader itself, to a learner or to a non-member is ignored', () => {
  const net = new TestNetwork([1n, 2n], { learners: [3n] });
  net.campaign(1n);
  const leader = net.node(1n);
  leader.transferLeader(1n);
  assert.equal(leader.raft.leadTransferee, 0n);
  leader.transferLeader(3n);
  assert.equal(leader.raft.leadTransferee, 0n);
  leader.transferLeader(9n);
  assert.equal(leader.raft.leadTransferee, 0n);
  net.stabilize();
  assert.equal(net.leader(), 1n);
});

test('a transfer requested on a follower is forwarded to the leader', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.node(3n).transferLeader(3n);
  net.stabilize();
  assert.equal(net.leader(), 3n);
});

test('a second transfer to another node replaces the first; a repeat of the same is ignored', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(2n);
  net.isolate(3n);
  net.propose(1n, 'a');
  const leader = net.node(1n);
  leader.transferLeader(2n);
  const before = leader.raft.electionElapsed;
  leader.transferLeader(2n);
  assert.equal(leader.raft.leadTransferee, 2n);
  assert.equal(leader.raft.electionElapsed, before);
  leader.transferLeader(3n);
  assert.equal(leader.raft.leadTransferee, 3n);
});

test('the transferee campaigns without pre-vote and through the lease of check-quorum', () => {
  const net = new TestNetwork([1n, 2n, 3n], { preVote: true, checkQuorum: true });
  net.campaign(1n);
  net.tickAll(3);
  net.node(1n).transferLeader(2n);
  net.stabilize();
  assert.equal(net.leader(), 2n);
  assert.equal(net.sent.filter((m) => m.type === MessageType.MsgPreVote && m.from === 2n).length, 0);
});
