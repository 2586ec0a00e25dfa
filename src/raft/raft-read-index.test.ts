import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage, type Message } from '../api/raftpb/types.js';
import { ReadOnlyOption } from './config.js';
import { RawNode } from './raw-node.js';
import { storageWith, testConfig, TestNetwork } from './test-network.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function drain(n: RawNode): Message[] {
  const msgs = n.raft.msgs;
  n.raft.msgs = [];
  return msgs;
}

function reads(net: TestNetwork, id: bigint): string[] {
  return net.peer(id).readStates.map((rs) => `${dec(rs.requestCtx)}@${rs.index}`);
}

test('a safe read index is confirmed by a heartbeat quorum carrying the request context (§8)', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n, 2n, 3n])));
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  assert.equal(n.raft.raftLog.committed, 1);
  drain(n);
  n.readIndex(enc('ctx'));
  const hbs = drain(n);
  assert.deepEqual(hbs.map((m) => [MessageType[m.type], m.to, dec(m.context)]), [
    ['MsgHeartbeat', 2n, 'ctx'],
    ['MsgHeartbeat', 3n, 'ctx'],
  ]);
  assert.equal(n.raft.readStates.length, 0, 'not confirmed before a quorum answered');
  n.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1, context: enc('ctx') }));
  assert.deepEqual(n.raft.readStates.map((rs) => [rs.index, dec(rs.requestCtx)]), [[1, 'ctx']]);
  const rd = n.ready();
  assert.equal(rd.readStates.length, 1);
  n.advance();
  assert.equal(n.raft.readStates.length, 0);
});

test('pending reads are batched: one heartbeat round answers all reads queued before it', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.dropIf = (m) => m.type === MessageType.MsgHeartbeatResp;
  net.node(1n).readIndex(enc('a'));
  net.node(1n).readIndex(enc('b'));
  net.stabilize();
  assert.deepEqual(reads(net, 1n), []);
  net.dropIf = undefined;
  net.node(1n).readIndex(enc('c'));
  net.stabilize();
  assert.deepEqual(reads(net, 1n), ['a@1', 'b@1', 'c@1']);
  // Heartbeats carry the newest pending context, so a regular heartbeat confirms older reads too.
  net.dropIf = (m) => m.type === MessageType.MsgHeartbeatResp;
  net.node(1n).readIndex(enc('d'));
  net.stabilize();
  net.dropIf = undefined;
  net.tickAll(1);
  assert.deepEqual(reads(net, 1n), ['a@1', 'b@1', 'c@1', 'd@1']);
});

test('the read index is the commit index when the read arrived', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.propose(1n, 'x');
  net.propose(1n, 'y');
  net.node(1n).readIndex(enc('r'));
  net.stabilize();
  assert.deepEqual(reads(net, 1n), ['r@3']);
});

test('a lease-based read is answered by the leader at once (§8, lease)', () => {
  const net = new TestNetwork([1n, 2n, 3n], { checkQuorum: true, config: (c) => (c.readOnlyOption = ReadOnlyOption.ReadOnlyLeaseBased) });
  net.campaign(1n);
  const leader = net.node(1n);
  net.isolate(1n);
  leader.readIndex(enc('lease'));
  assert.deepEqual(leader.raft.readStates.map((rs) => [rs.index, dec(rs.requestCtx)]), [[1, 'lease']]);
  assert.deepEqual(drain(leader).filter((m) => m.type === MessageType.MsgHeartbeat), []);
});

test('lease-based reads require check-quorum', () => {
  assert.throws(
    () => new RawNode(testConfig(1n, storageWith([1n]), { readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased })),
    /CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased/,
  );
});

test('a single-node leader answers a read at once', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n])));
  n.campaign();
  n.readIndex(enc('solo'));
  assert.deepEqual(n.raft.readStates.map((rs) => [rs.index, dec(rs.requestCtx)]), [[1, 'solo']]);
});

test('reads before the leader commits an entry of its term are postponed until it does', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n, 2n, 3n])));
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  drain(n);
  n.readIndex(enc('early'));
  assert.deepEqual(drain(n), [], 'no heartbeat round yet');
  assert.equal(n.raft.pendingReadIndexMessages.length, 1);
  // The empty entry of the new term commits: the read proceeds.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  const hbs = drain(n).filter((m) => m.type === MessageType.MsgHeartbeat);
  assert.equal(hbs.length, 2);
  assert.equal(dec(hbs[0]!.context), 'early');
  n.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 3n, to: 1n, term: 1, context: enc('early') }));
  assert.deepEqual(n.raft.readStates.map((rs) => [rs.index, dec(rs.requestCtx)]), [[1, 'early']]);
});

test('a follower forwards a read to the leader and emits the ReadState from its answer', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.propose(1n, 'x');
  net.node(2n).readIndex(enc('from-2'));
  net.stabilize();
  assert.deepEqual(reads(net, 2n), ['from-2@2']);
  assert.deepEqual(reads(net, 1n), []);
  const fwd = net.sent.find((m) => m.type === MessageType.MsgReadIndex);
  assert.equal(fwd?.from, 2n);
  assert.equal(fwd?.to, 1n);
  assert.ok(net.sent.some((m) => m.type === MessageType.MsgReadIndexResp && m.to === 2n));
});

test('a read without a known leader is dropped', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.node(2n).readIndex(enc('nobody'));
  net.stabilize();
  assert.deepEqual(reads(net, 2n), []);
  assert.equal(net.sent.length, 0);
});

test('a deposed leader does not confirm reads without a quorum', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(1n);
  net.node(1n).readIndex(enc('stale'));
  net.stabilize();
  net.tick(1n, 5);
  net.stabilize();
  assert.deepEqual(reads(net, 1n), []);
});
