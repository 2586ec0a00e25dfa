import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../api/raftpb/types.js';
import { marshalConfChange } from './conf-change-codec.js';
import { RawNode } from './raw-node.js';
import { StateType } from './ready.js';
import { MemoryStorage } from './storage.js';
import { storageWith, testConfig, TestNetwork } from './test-network.js';

const EMPTY = new Uint8Array(0);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function v1(type: ConfChangeType, nodeId: bigint): ConfChange {
  return { id: 0n, type, nodeId, context: EMPTY };
}

function v2(changes: ConfChangeSingle[], transition = ConfChangeTransition.ConfChangeTransitionAuto): ConfChangeV2 {
  return { transition, changes, context: EMPTY };
}

const add = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.ConfChangeAddNode, nodeId });
const remove = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.ConfChangeRemoveNode, nodeId });
const addLearner = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId });

// Storage for a node joining the cluster: empty log, the leader's current membership.
function joining(net: TestNetwork): MemoryStorage {
  return new MemoryStorage(structuredClone(net.peer(1n).confState));
}

function config(net: TestNetwork, id: bigint): string {
  return net.node(id).status().config;
}

test('a V1 conf change adds a voter in a single step, and the new quorum needs it (§6)', () => {
  const net = new TestNetwork([1n]);
  net.campaign(1n);
  net.propose(1n, 'a');
  // The new member starts with an empty log and the config it joins (as a host would create it
  // from the cluster's membership) and learns the log from the leader.
  net.addPeer(2n, joining(net));
  assert.equal(net.node(1n).proposeConfChange(v1(ConfChangeType.ConfChangeAddNode, 2n)), undefined);
  net.stabilize();
  net.tickAll(2);
  assert.equal(config(net, 1n), 'voters=(1 2)');
  assert.equal(config(net, 2n), 'voters=(1 2)');
  assert.deepEqual(net.peer(2n).applied.map(dec), ['a']);
  // Two voters: the leader alone is no longer a quorum.
  net.isolate(2n);
  const before = net.node(1n).raft.raftLog.committed;
  net.propose(1n, 'b');
  assert.equal(net.node(1n).raft.raftLog.committed, before);
  net.recover();
  net.tickAll(2);
  assert.deepEqual(net.peer(2n).applied.map(dec), ['a', 'b']);
});

test('only one conf change may be pending: a second is replaced by an empty normal entry (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  const leader = net.node(1n);
  leader.proposeConfChange(v1(ConfChangeType.ConfChangeAddLearnerNode, 4n));
  leader.proposeConfChange(v1(ConfChangeType.ConfChangeAddLearnerNode, 5n));
  const tail = leader.raft.raftLog.allEntries().slice(-2);
  assert.equal(tail[0]!.type, EntryType.EntryConfChange);
  assert.equal(tail[1]!.type, EntryType.EntryNormal);
  assert.equal(tail[1]!.data.length, 0);
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2 3) learners=(4)');
  // Once the first one is applied, the next is accepted.
  leader.proposeConfChange(v1(ConfChangeType.ConfChangeAddLearnerNode, 5n));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2 3) learners=(4 5)');
});

test('a V2 change of several voters goes through a joint config and leaves it automatically (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.addPeer(4n, joining(net));
  const seen: string[] = [];
  const leader = net.peer(1n);
  leader.node.proposeConfChange(v2([add(4n), remove(3n)]));
  // Watch the leader's config after each round.
  for (let i = 0; i < 50 && (seen.length === 0 || seen.at(-1) !== 'voters=(1 2 4)'); i++) {
    net.processReadies();
    net.deliver();
    const c = config(net, 1n);
    if (seen.at(-1) !== c) seen.push(c);
  }
  assert.deepEqual(seen, ['voters=(1 2 3)', 'voters=(1 2 4)&&(1 2 3) autoleave', 'voters=(1 2 4)']);
  net.stabilize();
  net.tickAll(2);
  for (const id of [1n, 2n, 4n]) assert.equal(config(net, id), 'voters=(1 2 4)');
  // The leave was proposed by the leader as an empty ConfChangeV2.
  const leave = leader.appliedEntries.filter((e) => e.type === EntryType.EntryConfChangeV2);
  assert.equal(leave.length, 2);
  assert.equal(leave[1]!.data.length, 0);
});

test('an explicit joint config stays joint until the empty change is proposed (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  const leader = net.node(1n);
  leader.proposeConfChange(v2([addLearner(4n), remove(3n)], ConfChangeTransition.ConfChangeTransitionJointExplicit));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2)&&(1 2 3) learners=(4)');
  // A non-empty change is refused while joint (it becomes an empty normal entry).
  leader.proposeConfChange(v2([add(5n)]));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2)&&(1 2 3) learners=(4)');
  leader.proposeConfChange(v2([]));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2) learners=(4)');
});

test('the empty V2 change is refused outside a joint config', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.node(1n).proposeConfChange(v2([]));
  const last = net.node(1n).raft.raftLog.allEntries().at(-1)!;
  assert.equal(last.type, EntryType.EntryNormal);
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2 3)');
});

test('a joint config commits only with majorities of both halves (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.addPeer(4n, joining(net));
  net.addPeer(5n, joining(net));
  net.node(1n).proposeConfChange(v2([add(4n), add(5n), remove(2n), remove(3n)], ConfChangeTransition.ConfChangeTransitionJointExplicit));
  net.stabilize();
  net.tickAll(2);
  assert.equal(config(net, 1n), 'voters=(1 4 5)&&(1 2 3)');
  const committed = () => net.node(1n).raft.raftLog.committed;
  // The old half alone (1 2 3) is not enough.
  net.isolate(4n);
  net.isolate(5n);
  let before = committed();
  net.propose(1n, 'x');
  assert.equal(committed(), before);
  net.recover();
  net.tickAll(2);
  // The new half alone (1 4 5) is not enough either.
  net.isolate(2n);
  net.isolate(3n);
  before = committed();
  net.propose(1n, 'y');
  assert.equal(committed(), before);
  net.recover();
  net.tickAll(2);
  assert.ok(committed() > before);
});

test('removing the leader steps it down, and the remaining voters elect a new leader (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.node(1n).proposeConfChange(v1(ConfChangeType.ConfChangeRemoveNode, 1n));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(2 3)');
  assert.equal(net.node(1n).raft.state, StateType.StateFollower);
  assert.equal(net.node(1n).propose(new Uint8Array([1])), 'proposal-dropped');
  net.isolate(1n);
  net.tickAll(30);
  const lead = net.leader();
  assert.ok(lead === 2n || lead === 3n, `new leader ${lead}`);
  assert.equal(config(net, lead), 'voters=(2 3)');
  // The removed node never campaigns.
  assert.notEqual(net.node(1n).raft.state, StateType.StateCandidate);
});

test('a removed follower no longer counts toward the quorum (§6)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.node(1n).proposeConfChange(v1(ConfChangeType.ConfChangeRemoveNode, 3n));
  net.stabilize();
  assert.equal(config(net, 1n), 'voters=(1 2)');
  net.isolate(3n);
  net.propose(1n, 'without-3');
  assert.deepEqual(net.peer(2n).applied.map(dec), ['without-3']);
  assert.equal(net.node(1n).raft.trk.progress.has(3n), false);
});

test('learners receive replication but do not count toward commits, and can be promoted', () => {
  const net = new TestNetwork([1n, 2n], { learners: [3n] });
  net.campaign(1n);
  net.isolate(2n);
  const before = net.node(1n).raft.raftLog.committed;
  net.propose(1n, 'a');
  assert.equal(net.node(1n).raft.raftLog.committed, before, 'the learner ack does not commit');
  assert.equal(net.node(3n).raft.raftLog.lastIndex(), net.node(1n).raft.raftLog.lastIndex(), 'but it got the entry');
  net.recover();
  net.tickAll(2);
  assert.deepEqual(net.peer(3n).applied.map(dec), ['a']);
  net.node(1n).proposeConfChange(v1(ConfChangeType.ConfChangeAddNode, 3n));
  net.stabilize();
  net.tickAll(2);
  assert.equal(config(net, 3n), 'voters=(1 2 3)');
  assert.equal(net.node(3n).raft.isLearner, false);
  net.isolate(2n);
  net.propose(1n, 'b');
  assert.deepEqual(net.peer(3n).applied.map(dec), ['a', 'b'], 'now 3 makes the quorum');
});

test('a node does not campaign while a committed conf change is unapplied', () => {
  const storage = storageWith([1n, 2n, 3n], [1], { term: 1, vote: 0n, commit: 2 });
  storage.append([{ term: 1, index: 2, type: EntryType.EntryConfChange, data: marshalConfChange(v1(ConfChangeType.ConfChangeAddNode, 4n)) }]);
  const n = new RawNode(testConfig(1n, storage, { applied: 1 }));
  n.campaign();
  assert.equal(n.raft.state, StateType.StateFollower);
  // Once applied, it may.
  const rd = n.ready();
  assert.equal(rd.committedEntries.length, 1);
  n.applyConfChange(v1(ConfChangeType.ConfChangeAddNode, 4n));
  n.advance();
  n.campaign();
  assert.equal(n.raft.state, StateType.StateCandidate);
});

test('applying an invalid conf change is a broken invariant', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n, 2n, 3n])));
  assert.throws(() => n.applyConfChange(v2([])), /can't leave a non-joint config/);
  assert.throws(() => n.applyConfChange(v2([remove(1n), remove(2n), remove(3n)], ConfChangeTransition.ConfChangeTransitionJointExplicit)), /removed all voters/);
});
