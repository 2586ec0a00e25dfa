import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, newMessage } from '../api/raftpb/types.js';
import { seededRand } from '../pkg/rand.js';
import { unmarshalConfChange } from './conf-change-codec.js';
import { describeReady } from './describe.js';
import { RawNode } from './raw-node.js';
import { StateType } from './ready.js';
import { MemoryStorage } from './storage.js';
import { ProgressState } from './tracker/index.js';
import { storageWith, testConfig } from './test-network.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

// Persists and applies a Ready the way a host does, then advances.
function handle(n: RawNode, s: MemoryStorage): ReturnType<RawNode['ready']> {
  const rd = n.ready();
  if (rd.snapshot !== undefined) s.applySnapshot(rd.snapshot);
  if (rd.hardState !== undefined) s.setHardState(rd.hardState);
  s.append(rd.entries);
  for (const e of rd.committedEntries) if (e.type === EntryType.EntryConfChange) n.applyConfChange(unmarshalConfChange(e.data));
  n.advance();
  return rd;
}

test('bootstrap commits one AddNode entry per peer at term 1 and hands them out for persisting and applying', () => {
  const s = new MemoryStorage();
  const n = new RawNode(testConfig(1n, s));
  n.bootstrap([1n, 2n, 3n]);
  assert.equal(n.hasReady(), true);
  const rd = n.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 3 });
  assert.deepEqual(rd.entries.map((e) => [e.term, e.index, e.type]), [
    [1, 1, EntryType.EntryConfChange],
    [1, 2, EntryType.EntryConfChange],
    [1, 3, EntryType.EntryConfChange],
  ]);
  assert.deepEqual(rd.committedEntries.map((e) => unmarshalConfChange(e.data).nodeId), [1n, 2n, 3n]);
  assert.equal(rd.mustSync, true);
  assert.deepEqual(n.raft.trk.voterNodes(), [1n, 2n, 3n], 'the peers are known right away, so it can campaign');
  s.setHardState(rd.hardState!);
  s.append(rd.entries);
  for (const e of rd.committedEntries) n.applyConfChange(unmarshalConfChange(e.data));
  n.advance();
  assert.equal(n.hasReady(), false);
  assert.equal(n.status().config, 'voters=(1 2 3)');
  assert.throws(() => n.bootstrap([1n]), /can't bootstrap a nonempty Storage/);
  assert.throws(() => new RawNode(testConfig(1n, new MemoryStorage())).bootstrap([]), /at least one peer/);
});

test('a single bootstrapped node campaigns, becomes leader and commits proposals through Readys', () => {
  const s = new MemoryStorage();
  const n = new RawNode(testConfig(1n, s));
  n.bootstrap([1n]);
  handle(n, s);
  n.campaign();
  let rd = handle(n, s);
  assert.deepEqual(rd.softState, { lead: 1n, raftState: StateType.StateLeader });
  assert.equal(rd.hardState?.term, 2);
  assert.equal(n.propose(enc('foo')), undefined);
  rd = handle(n, s);
  assert.equal(rd.softState, undefined, 'soft state only when it changed');
  assert.deepEqual(rd.entries.map((e) => new TextDecoder().decode(e.data)), ['foo']);
  assert.deepEqual(rd.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['foo']);
  assert.equal(n.hasReady(), false);
  assert.equal(n.raft.raftLog.applied, 3);
});

test('ready reports the hard state only when it changed, and mustSync only for term, vote or entries', () => {
  const s = storageWith([1n, 2n]);
  const n = new RawNode(testConfig(1n, s));
  assert.equal(n.hasReady(), false);
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  let rd = handle(n, s);
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 0 });
  assert.equal(rd.mustSync, true);
  assert.deepEqual(rd.softState, { lead: 2n, raftState: StateType.StateFollower });
  // Another heartbeat: only a message to send, nothing to persist.
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
  rd = handle(n, s);
  assert.equal(rd.hardState, undefined);
  assert.equal(rd.softState, undefined);
  assert.equal(rd.mustSync, false);
  assert.equal(rd.messages.length, 1);
  // A commit index change alone is persisted without forcing a sync.
  n.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1, index: 0, logTerm: 0, entries: [{ term: 1, index: 1, type: 0, data: enc('a') }] }));
  rd = handle(n, s);
  assert.equal(rd.mustSync, true);
  n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1, commit: 1 }));
  rd = handle(n, s);
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 1 });
  assert.equal(rd.mustSync, false);
  assert.equal(rd.committedEntries.length, 1);
});

test('committed entries per Ready are bounded by maxCommittedSizePerReady', () => {
  const s = storageWith([1n], [1, 1, 1, 1, 1], { term: 1, vote: 0n, commit: 5 });
  const n = new RawNode(testConfig(1n, s, { maxCommittedSizePerReady: 12 }));
  const sizes: number[] = [];
  while (n.hasReady()) sizes.push(handle(n, s).committedEntries.length);
  assert.deepEqual(sizes, [2, 2, 1]);
  assert.equal(n.raft.raftLog.applied, 5);
});

test('a restarted node does not hand out entries at or below config.applied', () => {
  const s = storageWith([1n], [1, 1, 1], { term: 1, vote: 0n, commit: 3 });
  const n = new RawNode(testConfig(1n, s, { applied: 2 }));
  const rd = n.ready();
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [3]);
});

test('step refuses local message types and responses from unknown peers', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n, 2n])));
  for (const type of [MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgUnreachable, MessageType.MsgSnapStatus, MessageType.MsgCheckQuorum]) {
    assert.equal(n.step(newMessage({ type, from: 2n, to: 1n })), 'step-local-msg');
  }
  assert.equal(n.step(newMessage({ type: MessageType.MsgAppResp, from: 9n, to: 1n, term: 1 })), 'step-peer-not-found');
  assert.equal(n.step(newMessage({ type: MessageType.MsgHeartbeat, from: 9n, to: 1n, term: 1 })), undefined, 'requests from anyone are stepped');
});

test('status reports progress only on the leader', () => {
  const s = storageWith([1n, 2n]);
  const n = new RawNode(testConfig(1n, s));
  assert.equal(n.status().progress.size, 0);
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  const st = n.status();
  assert.equal(st.softState.raftState, StateType.StateLeader);
  assert.equal(st.hardState.term, 1);
  assert.equal(st.hardState.vote, 1n);
  assert.deepEqual([...st.progress.keys()], [1n, 2n]);
  assert.deepEqual(st.progress.get(1n), { match: 1, next: 2, state: ProgressState.StateReplicate, isLearner: false });
  assert.equal(st.config, 'voters=(1 2)');
  assert.equal(st.leadTransferee, 0n);
});

test('reportUnreachable moves a replicating follower to probe', () => {
  const n = new RawNode(testConfig(1n, storageWith([1n, 2n])));
  n.campaign();
  n.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 1n, term: 1 }));
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  assert.equal(n.raft.trk.progress.get(2n)!.state, ProgressState.StateReplicate);
  n.reportUnreachable(2n);
  assert.equal(n.raft.trk.progress.get(2n)!.state, ProgressState.StateProbe);
});

test('advance without a ready does nothing; entries proposed after ready stay unstable for the next one', () => {
  const s = storageWith([1n]);
  const n = new RawNode(testConfig(1n, s));
  n.advance();
  n.campaign();
  const rd = n.ready();
  s.setHardState(rd.hardState!);
  s.append(rd.entries);
  n.propose(enc('late'));
  n.advance();
  const next = n.ready();
  assert.deepEqual(next.entries.map((e) => new TextDecoder().decode(e.data)), ['late']);
});

test('invalid configs are refused with etcd texts', () => {
  const s = new MemoryStorage();
  const base = testConfig(1n, s);
  assert.throws(() => new RawNode({ ...base, id: 0n }), /cannot use none as id/);
  assert.throws(() => new RawNode({ ...base, heartbeatTick: 0 }), /heartbeat tick must be greater than 0/);
  assert.throws(() => new RawNode({ ...base, electionTick: 1 }), /election tick must be greater than heartbeat tick/);
  assert.throws(() => new RawNode({ ...base, maxInflightMsgs: 0 }), /max inflight messages must be greater than 0/);
  assert.throws(() => new RawNode({ ...base, maxSizePerMsg: 100, maxInflightBytes: 10 }), /max inflight bytes must be >= max message size/);
});

test('the same seed and inputs give the same Readys (determinism)', () => {
  const run = (): string[] => {
    const out: string[] = [];
    const s = storageWith([1n, 2n, 3n]);
    const n = new RawNode(testConfig(1n, s, { rand: seededRand(42), preVote: true }));
    for (let i = 0; i < 40; i++) {
      n.tick();
      if (n.hasReady()) out.push(describeReady(handle(n, s)));
    }
    return out;
  };
  const a = run();
  assert.ok(a.length > 0);
  assert.deepEqual(run(), a);
});
