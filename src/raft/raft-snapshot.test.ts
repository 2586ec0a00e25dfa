import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, emptyConfState, newMessage, type ConfState, type Message, type Snapshot } from '../api/raftpb/types.js';
import { RawNode } from './raw-node.js';
import { StateType } from './ready.js';
import { ProgressState } from './tracker/index.js';
import { storageWith, testConfig, TestNetwork } from './test-network.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function drain(n: RawNode): Message[] {
  const msgs = n.raft.msgs;
  n.raft.msgs = [];
  return msgs;
}

function cs(voters: bigint[], learners: bigint[] = []): ConfState {
  const c = emptyConfState();
  c.voters = voters;
  c.learners = learners;
  return c;
}

function snapshot(index: number, term: number, conf: ConfState): Snapshot {
  return { data: new TextEncoder().encode('state'), metadata: { index, term, confState: conf } };
}

// Proposes n entries at `leader`, then has the leader's host snapshot and compact at its applied index.
function proposeAndCompact(net: TestNetwork, leader: bigint, n: number): number {
  for (let i = 0; i < n; i++) net.propose(leader, `e${i}`);
  const p = net.peer(leader);
  const applied = p.node.raft.raftLog.applied;
  const snap = p.storage.createSnapshot(applied, p.confState, new TextEncoder().encode('state'));
  assert.notEqual(typeof snap, 'string');
  assert.equal(p.storage.compact(applied), undefined);
  return applied;
}

test('leader sends a snapshot to a follower whose next entries were compacted (§7)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  const snapIndex = proposeAndCompact(net, 1n, 5);
  net.recover();
  // Watch the leader's view of 3 as the snapshot goes out.
  const states: ProgressState[] = [];
  net.dropIf = (m) => {
    if (m.type === MessageType.MsgSnap) states.push(net.node(1n).raft.trk.progress.get(3n)!.state);
    return false;
  };
  net.tickAll(2);
  const snaps = net.sent.filter((m) => m.type === MessageType.MsgSnap);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.snapshot!.metadata.index, snapIndex);
  assert.deepEqual(states, [ProgressState.StateSnapshot]);
  // The follower restored it and caught up: back to replicating.
  const pr = net.node(1n).raft.trk.progress.get(3n)!;
  assert.equal(pr.state, ProgressState.StateReplicate);
  assert.equal(pr.match, net.node(1n).raft.raftLog.lastIndex());
  const r3 = net.node(3n).raft;
  assert.equal(r3.raftLog.committed, net.node(1n).raft.raftLog.committed);
  assert.equal(net.peer(3n).storage.firstIndex(), snapIndex + 1);
  // Entries after the snapshot still reach it through the log.
  net.propose(1n, 'after');
  assert.deepEqual(net.peer(3n).applied.map(dec), ['after']);
});

test('a follower installs a snapshot and restores the membership from its ConfState (§7)', () => {
  const n = new RawNode(testConfig(2n, storageWith([1n, 2n]), {}));
  const s = snapshot(11, 11, cs([1n, 2n, 3n], [4n]));
  n.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 11, snapshot: s }));
  const r = n.raft;
  assert.equal(r.raftLog.committed, 11);
  assert.equal(r.raftLog.lastIndex(), 11);
  assert.equal(r.lead, 1n);
  assert.deepEqual(r.trk.voterNodes(), [1n, 2n, 3n]);
  assert.deepEqual(r.trk.learnerNodes(), [4n]);
  const [resp] = drain(n);
  assert.equal(resp!.type, MessageType.MsgAppResp);
  assert.equal(resp!.index, 11);
  // The Ready hands the snapshot to the host to persist, and it is applied as of its index.
  const rd = n.ready();
  assert.equal(rd.snapshot, s);
  assert.equal(rd.hardState?.commit, 11);
  n.advance();
  assert.equal(r.raftLog.applied, 11);
  assert.equal(n.hasReady(), false);
});

test('a snapshot not newer than the commit index is ignored', () => {
  const n = new RawNode(testConfig(2n, storageWith([1n, 2n], [1, 1, 1], { term: 1, vote: 0n, commit: 3 })));
  n.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snapshot(2, 1, cs([1n, 2n])) }));
  assert.equal(n.raft.raftLog.lastIndex(), 3);
  const [resp] = drain(n);
  assert.equal(resp!.index, 3);
  assert.equal(n.raft.raftLog.hasPendingSnapshot(), false);
});

test('a snapshot whose last entry is already in the log only fast-forwards the commit index', () => {
  const n = new RawNode(testConfig(2n, storageWith([1n, 2n], [1, 1, 1, 1], { term: 1, vote: 0n, commit: 1 })));
  n.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snapshot(3, 1, cs([1n, 2n])) }));
  assert.equal(n.raft.raftLog.committed, 3);
  assert.equal(n.raft.raftLog.lastIndex(), 4, 'the log is kept');
  assert.equal(n.raft.raftLog.hasPendingSnapshot(), false);
});

test('a snapshot that does not include this node is ignored', () => {
  const n = new RawNode(testConfig(2n, storageWith([1n, 2n])));
  n.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snapshot(5, 1, cs([1n, 3n])) }));
  assert.equal(n.raft.raftLog.committed, 0);
  assert.equal(n.raft.raftLog.hasPendingSnapshot(), false);
});

test('reportSnapshot moves the progress back to probe, from past the snapshot on success', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  const snapIndex = proposeAndCompact(net, 1n, 3);
  net.recover();
  const leader = net.node(1n);
  // Hold the snapshot back so the progress stays in StateSnapshot.
  net.dropIf = (m) => m.type === MessageType.MsgSnap || m.to === 3n || m.from === 3n;
  const pr = leader.raft.trk.progress.get(3n)!;
  // As after a rejection: probe from the match, which is compacted away.
  pr.becomeProbe();
  pr.recentActive = true;
  leader.raft.sendAppend(3n);
  assert.equal(pr.state, ProgressState.StateSnapshot);
  assert.equal(pr.pendingSnapshot, snapIndex);
  leader.reportSnapshot(3n, false);
  assert.equal(pr.state, ProgressState.StateProbe);
  assert.equal(pr.next, pr.match + 1, 'a failed snapshot probes from the match again');
  assert.equal(pr.msgAppFlowPaused, true, 'and waits a heartbeat before the next try');

  leader.raft.sendAppend(3n); // paused: nothing
  pr.msgAppFlowPaused = false;
  leader.raft.sendAppend(3n);
  assert.equal(pr.state, ProgressState.StateSnapshot);
  leader.reportSnapshot(3n, true);
  assert.equal(pr.state, ProgressState.StateProbe);
  assert.equal(pr.next, snapIndex + 1, 'a delivered snapshot probes from just past it');
});

test('a leader does not send a snapshot to a follower it has not heard from recently', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  proposeAndCompact(net, 1n, 3);
  const leader = net.node(1n);
  leader.raft.trk.progress.get(3n)!.recentActive = false;
  leader.raft.trk.progress.get(3n)!.becomeProbe();
  leader.raft.sendAppend(3n);
  assert.equal(leader.raft.msgs.filter((m) => m.type === MessageType.MsgSnap).length, 0);
});

test('compaction (§7): a node restarted from a compacted storage keeps its state and serves the rest of the log', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  proposeAndCompact(net, 1n, 4);
  net.propose(1n, 'tail');
  const p = net.peer(1n);
  const term = p.node.raft.term;
  const committed = p.node.raft.raftLog.committed;
  // Restart node 1 on its storage.
  const restarted = net.addPeer(1n, p.storage);
  const r = restarted.node.raft;
  assert.equal(r.term, term);
  assert.equal(r.raftLog.committed, committed);
  assert.equal(r.state, StateType.StateFollower);
  assert.deepEqual(r.trk.voterNodes(), [1n, 2n, 3n]);
  assert.equal(r.raftLog.firstIndex(), 6);
  assert.equal(dec(r.raftLog.allEntries().at(-1)!.data), 'tail');
});
