import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage, type Entry, type Message } from '../api/raftpb/types.js';
import type { RaftConfig } from './config.js';
import { entrySize } from './entries.js';
import { RawNode } from './raw-node.js';
import { StateType } from './ready.js';
import { ProgressState } from './tracker/index.js';
import { entriesWithTerms, storageWith, testConfig, TestNetwork } from './test-network.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function drain(n: RawNode): Message[] {
  const msgs = n.raft.msgs;
  n.raft.msgs = [];
  return msgs;
}

// A node with the given log (terms at indexes 1..n), term and commit.
function node(id: bigint, voters: bigint[], terms: number[], term: number, commit = 0, overrides: Partial<RaftConfig> = {}): RawNode {
  return new RawNode(testConfig(id, storageWith(voters, terms, { term, vote: 0n, commit }), overrides));
}

// Makes n (a follower at some term) leader of term+1 with the votes of every other voter.
function elect(n: RawNode): void {
  n.campaign();
  for (const id of n.raft.trk.voterNodes()) {
    if (id !== n.raft.id) n.step(newMessage({ type: MessageType.MsgVoteResp, from: id, to: n.raft.id, term: n.raft.term }));
  }
  assert.equal(n.raft.state, StateType.StateLeader);
  drain(n);
}

const termsOf = (n: RawNode): number[] => n.raft.raftLog.allEntries().map((e) => e.term);

test('leader commits an entry once a majority has replicated it, and followers learn the commit index (§5.3)', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.propose(1n, 'a');
  // Leader + follower 2 is a majority of three.
  assert.equal(net.node(1n).raft.raftLog.committed, 2);
  assert.equal(net.node(2n).raft.raftLog.committed, 2);
  assert.deepEqual(net.peer(2n).applied.map(dec), ['a']);
  assert.equal(net.node(3n).raft.raftLog.committed, 1);
});

test('leader does not commit without a majority', () => {
  const net = new TestNetwork([1n, 2n, 3n, 4n, 5n]);
  net.campaign(1n);
  net.isolate(3n);
  net.isolate(4n);
  net.isolate(5n);
  net.propose(1n, 'a');
  assert.equal(net.node(1n).raft.raftLog.committed, 1);
  assert.deepEqual(net.peer(1n).applied, []);
});

test('leader commits only entries of its current term by counting replicas (§5.4.2)', () => {
  // Leader-to-be has an uncommitted entry of term 2 at index 2.
  const n = node(1n, [1n, 2n, 3n], [1, 2], 2, 1);
  elect(n);
  assert.equal(n.raft.term, 3);
  assert.deepEqual(termsOf(n), [1, 2, 3]);
  // A majority (1 and 2) now holds index 2, an entry of term 2: not committed by counting.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: 2 }));
  assert.equal(n.raft.raftLog.committed, 1);
  // Once the current term's entry is on a majority, it and everything before it commit.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: 3 }));
  assert.equal(n.raft.raftLog.committed, 3);
});

test('follower appends the leader entries and commits up to the leader commit it holds (§5.3)', () => {
  const f = node(2n, [1n, 2n, 3n], [1], 1);
  f.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 1, logTerm: 1, commit: 3, entries: entriesWithTerms([1, 1], 2) }));
  assert.deepEqual(termsOf(f), [1, 1, 1]);
  assert.equal(f.raft.raftLog.committed, 3);
  const [resp] = drain(f);
  assert.equal(resp!.type, MessageType.MsgAppResp);
  assert.equal(resp!.index, 3);
  assert.equal(resp!.reject, false);
  // A leader commit past the appended entries is capped at the last new entry.
  const g = node(2n, [1n, 2n, 3n], [1], 1);
  g.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 1, logTerm: 1, commit: 9, entries: entriesWithTerms([1], 2) }));
  assert.equal(g.raft.raftLog.committed, 2);
});

test('follower rejects MsgApp with mismatched prev term and hints where its log may match (§5.3)', () => {
  const f = node(2n, [1n, 2n, 3n], [1, 2, 2], 3);
  f.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 3, index: 3, logTerm: 3, entries: entriesWithTerms([3], 4) }));
  const [resp] = drain(f);
  assert.equal(resp!.reject, true);
  assert.equal(resp!.index, 3);
  // Our last entry of term <= 3 is index 3 (term 2).
  assert.equal(resp!.rejectHint, 3);
  assert.equal(resp!.logTerm, 2);
  assert.deepEqual(termsOf(f), [1, 2, 2], 'a rejected append changes nothing');
  // A probe beyond our log is rejected with our last index as the hint.
  f.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 3, index: 7, logTerm: 3 }));
  const [r2] = drain(f);
  assert.equal(r2!.reject, true);
  assert.equal(r2!.rejectHint, 3);
});

test('follower truncates conflicting entries and appends the leader ones (§5.3)', () => {
  const f = node(2n, [1n, 2n, 3n], [1, 1, 2, 2], 2, 1);
  f.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 3, index: 2, logTerm: 1, entries: entriesWithTerms([3, 3], 3) }));
  assert.deepEqual(termsOf(f), [1, 1, 3, 3]);
  const rd = f.ready();
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term]), [[3, 3], [4, 3]], 'the replacement entries must be persisted');
});

test('a MsgApp older than the commit index is answered with the commit index', () => {
  const f = node(2n, [1n, 2n, 3n], [1, 1, 1], 1, 3);
  f.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, index: 1, logTerm: 1, entries: entriesWithTerms([1], 2) }));
  const [resp] = drain(f);
  assert.equal(resp!.reject, false);
  assert.equal(resp!.index, 3);
});

test('log matching: after a leader change and healing, every log is identical (§5.3)', () => {
  const net = new TestNetwork([1n, 2n, 3n, 4n, 5n]);
  net.campaign(1n);
  net.propose(1n, 'a');
  // Leader 1 appends entries that reach nobody.
  for (const id of [2n, 3n, 4n, 5n]) net.cut(1n, id);
  net.propose(1n, 'lost1');
  net.propose(1n, 'lost2');
  net.recover();
  net.isolate(1n);
  net.campaign(2n);
  net.propose(2n, 'b');
  net.propose(2n, 'c');
  net.recover();
  net.tickAll(3);
  net.propose(2n, 'd');
  const ref = net.node(2n).raft.raftLog.allEntries().map((e) => `${e.index}/${e.term}`);
  for (const p of net.peers.values()) {
    assert.deepEqual(p.node.raft.raftLog.allEntries().map((e) => `${e.index}/${e.term}`), ref, `log of ${p.id}`);
    assert.deepEqual(p.applied.map(dec), ['a', 'b', 'c', 'd'], `applied on ${p.id}`);
  }
});

test('leader is append-only: it never overwrites or deletes its own entries (§5.3)', () => {
  const n = node(1n, [1n, 2n, 3n], [1, 1, 2], 2, 1);
  elect(n);
  const before = n.raft.raftLog.allEntries().map((e) => `${e.index}/${e.term}`);
  // Rejections, stale acks and higher-index claims must not touch the leader's log.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3, index: 4, reject: true, rejectHint: 1, logTerm: 1 }));
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 3n, to: 1n, term: 3, index: 2 }));
  n.propose(enc('x'));
  const after = n.raft.raftLog.allEntries().map((e) => `${e.index}/${e.term}`);
  assert.deepEqual(after.slice(0, before.length), before);
  assert.equal(after.length, before.length + 1);
});

test('leader backtracks over a divergent follower tail in one probe per term', () => {
  // Leader log terms 1 3 3 3 5 5 5 5 5; follower has 1 1 1 1 2 2.
  const net = new TestNetwork([1n, 2n, 3n], {
    storage: (id, cs) => {
      const terms = id === 1n ? [1, 3, 3, 3, 5, 5, 5, 5, 5] : id === 2n ? [1, 1, 1, 1, 2, 2] : [1, 3, 3, 3, 5, 5, 5, 5, 5];
      return storageWith(cs.voters, terms, { term: 5, vote: 0n, commit: 1 });
    },
  });
  net.campaign(1n);
  const rejections = net.sent.filter((m) => m.type === MessageType.MsgAppResp && m.from === 2n && m.reject);
  assert.ok(rejections.length <= 2, `expected at most 2 rejections, got ${rejections.length}`);
  assert.deepEqual(termsOf(net.node(2n)), termsOf(net.node(1n)));
});

test('follower hints skip its own divergent tail of higher terms', () => {
  // Leader 1 3 3 3 3 3 3 3 7; follower 1 3 3 4 4 5 5 5 6.
  const net = new TestNetwork([1n, 2n, 3n], {
    storage: (id, cs) => {
      const terms = id === 2n ? [1, 3, 3, 4, 4, 5, 5, 5, 6] : [1, 3, 3, 3, 3, 3, 3, 3, 7];
      return storageWith(cs.voters, terms, { term: 7, vote: 0n, commit: 1 });
    },
  });
  net.campaign(1n);
  const rejections = net.sent.filter((m) => m.type === MessageType.MsgAppResp && m.from === 2n && m.reject);
  assert.ok(rejections.length <= 2, `expected at most 2 rejections, got ${rejections.length}`);
  assert.deepEqual(termsOf(net.node(2n)), termsOf(net.node(1n)));
});

test('a probing follower gets one append until it answers; replication then pipelines up to the inflight limit', () => {
  const n = node(1n, [1n, 2n], [], 0, 0, { maxInflightMsgs: 2 });
  elect(n);
  const pr = n.raft.trk.progress.get(2n)!;
  assert.equal(pr.state, ProgressState.StateProbe);
  n.propose(enc('a'));
  n.propose(enc('b'));
  // The election's append probe is outstanding: further proposals are not sent.
  assert.deepEqual(drain(n).filter((m) => m.type === MessageType.MsgApp), []);
  // The follower acks the first entry: replicate, then send the rest in one message.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  assert.equal(pr.state, ProgressState.StateReplicate);
  const apps = drain(n).filter((m) => m.type === MessageType.MsgApp);
  assert.ok(apps.length >= 1);
  // Fill the window of 2 messages.
  n.propose(enc('c'));
  n.propose(enc('d'));
  n.propose(enc('e'));
  const more = drain(n).filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
  assert.equal(pr.inflights.count(), 2);
  assert.equal(more.length + apps.filter((m) => m.entries.length > 0).length, 2, 'no more than the inflight limit');
  assert.equal(pr.isPaused(), true);
  // An ack frees the window and the rest goes out.
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: pr.next - 1 }));
  assert.equal(pr.inflights.count() <= 1, true);
  const rest = drain(n).filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
  assert.ok(rest.length >= 1);
  assert.equal(rest[rest.length - 1]!.entries.at(-1)!.index, n.raft.raftLog.lastIndex());
});

test('a rejected append moves a replicating follower back to probing from its match', () => {
  const n = node(1n, [1n, 2n], [], 0);
  elect(n);
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  const pr = n.raft.trk.progress.get(2n)!;
  assert.equal(pr.state, ProgressState.StateReplicate);
  n.propose(enc('a'));
  n.propose(enc('b'));
  drain(n);
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 2, reject: true, rejectHint: 1, logTerm: 1 }));
  assert.equal(pr.state, ProgressState.StateProbe);
  assert.equal(pr.next, 2);
  const [app] = drain(n);
  assert.equal(app!.type, MessageType.MsgApp);
  assert.equal(app!.index, 1);
});

test('a full inflight window whose appends were lost recovers on the next heartbeat response', () => {
  const net = new TestNetwork([1n, 2n], { maxInflightMsgs: 1 });
  net.campaign(1n);
  net.dropIf = (m) => m.type === MessageType.MsgApp;
  net.propose(1n, 'a');
  net.propose(1n, 'b');
  assert.equal(net.node(1n).raft.raftLog.committed, 1);
  net.dropIf = undefined;
  net.tickAll(3);
  assert.equal(net.node(1n).raft.raftLog.committed, 3);
  assert.deepEqual(net.peer(2n).applied.map(dec), ['a', 'b']);
});

test('maxSizePerMsg limits the entries of one MsgApp (but always sends at least one)', () => {
  const one = entrySize({ term: 1, index: 2, type: 0, data: enc('aaaa') });
  const n = node(1n, [1n, 2n], [], 0, 0, { maxSizePerMsg: 2 * one });
  elect(n);
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  drain(n);
  // Stop the flow while proposing, then let it go.
  n.raft.trk.progress.get(2n)!.becomeProbe();
  n.raft.trk.progress.get(2n)!.msgAppFlowPaused = true;
  for (let i = 0; i < 5; i++) n.propose(enc('aaaa'));
  drain(n);
  n.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1 }));
  const [app] = drain(n);
  assert.equal(app!.entries.length, 2);
});

test('maxUncommittedEntriesSize drops proposals beyond the limit until entries commit', () => {
  const storage = storageWith([1n, 2n, 3n]);
  const n = new RawNode(testConfig(1n, storage, { maxUncommittedEntriesSize: 10 }));
  elect(n);
  assert.equal(n.propose(new Uint8Array(6)), undefined);
  assert.equal(n.propose(new Uint8Array(4)), undefined);
  assert.equal(n.propose(new Uint8Array(1)), 'proposal-dropped');
  // Empty entries are never refused.
  assert.equal(n.propose(new Uint8Array(0)), undefined);
  // Commit and apply everything: room again.
  const last = n.raft.raftLog.lastIndex();
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: last }));
  const rd = n.ready();
  assert.equal(rd.committedEntries.at(-1)!.index, last);
  storage.append(rd.entries);
  n.advance();
  assert.equal(n.propose(new Uint8Array(10)), undefined);
});

test('a follower forwards proposals to the leader', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  assert.equal(net.propose(2n, 'via-follower'), undefined);
  for (const p of net.peers.values()) assert.deepEqual(p.applied.map(dec), ['via-follower']);
});

test('with disableProposalForwarding a follower drops proposals', () => {
  const net = new TestNetwork([1n, 2n, 3n], { config: (c) => (c.disableProposalForwarding = true) });
  net.campaign(1n);
  assert.equal(net.propose(2n, 'x'), 'proposal-dropped');
  assert.deepEqual(net.peer(1n).applied, []);
});

test('proposals without a leader are dropped', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  assert.equal(net.propose(1n, 'x'), 'proposal-dropped');
  net.node(1n).campaign();
  assert.equal(net.node(1n).propose(enc('x')), 'proposal-dropped', 'a candidate drops proposals');
});

test('a heartbeat never commits a follower past what the leader knows it holds', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(3n);
  net.propose(1n, 'a');
  net.propose(1n, 'b');
  net.recover();
  net.dropIf = (m) => m.type === MessageType.MsgApp;
  net.tick(1n);
  net.stabilize();
  // Node 3 only got a heartbeat with commit = min(match, committed) = 1.
  assert.equal(net.node(3n).raft.raftLog.committed, 1);
  net.dropIf = undefined;
  net.tickAll(2);
  assert.equal(net.node(3n).raft.raftLog.committed, 3);
});

test('entries appended by a leader replace an older leader uncommitted tail on every follower', () => {
  const net = new TestNetwork([1n, 2n, 3n]);
  net.campaign(1n);
  net.isolate(1n);
  net.propose(1n, 'orphan');
  net.recover();
  net.isolate(1n);
  net.campaign(2n);
  net.propose(2n, 'winner');
  net.recover();
  net.tickAll(2);
  const e: Entry[] = net.node(1n).raft.raftLog.allEntries();
  assert.deepEqual(e.map((x) => dec(x.data)), ['', '', 'winner']);
  assert.deepEqual(net.peer(1n).applied.map(dec), ['winner']);
});

test('maxInflightBytes pauses replication once that many payload bytes are in flight', () => {
  const n = node(1n, [1n, 2n], [], 0, 0, { maxSizePerMsg: 100, maxInflightBytes: 250 });
  elect(n);
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 1 }));
  drain(n);
  const pr = n.raft.trk.progress.get(2n)!;
  for (let i = 0; i < 5; i++) n.propose(new Uint8Array(100));
  const apps = drain(n).filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
  // Each message carries one 100-byte entry; the third brings the window to 300 >= 250: full.
  assert.equal(apps.length, 3);
  assert.equal(pr.isPaused(), true);
  n.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: apps[0]!.entries[0]!.index }));
  assert.equal(drain(n).filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0).length, 1);
});
