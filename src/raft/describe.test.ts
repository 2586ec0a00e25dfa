import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, EntryType, MessageType, emptyConfState, newMessage, type Entry } from '../api/raftpb/types.js';
import { marshalConfChange, marshalConfChangeV2 } from './conf-change-codec.js';
import { describeEntry, describeHardState, describeMessage, describeReady, describeSoftState, goQuote } from './describe.js';
import { StateType } from './ready.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function ent(term: number, index: number, data: string, type = EntryType.EntryNormal): Entry {
  return { term, index, type, data: enc(data) };
}

test('describeMessage prints like etcd: hex IDs, type, term, log position, commit and entries', () => {
  const m = newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, logTerm: 1, index: 2, commit: 2, entries: [ent(1, 3, 'foo')] });
  assert.equal(describeMessage(m), '1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal "foo"]');
  const r = newMessage({ type: MessageType.MsgAppResp, from: 0x1fn, to: 1n, term: 2, logTerm: 1, index: 5, reject: true, rejectHint: 3 });
  assert.equal(describeMessage(r), '1f->1 MsgAppResp Term:2 Log:1/5 Rejected (Hint: 3)');
  const two = newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, entries: [ent(1, 3, 'a'), ent(1, 4, 'b')] });
  assert.equal(describeMessage(two), '1->2 MsgApp Term:0 Log:0/0 Entries:[1/3 EntryNormal "a", 1/4 EntryNormal "b"]');
});

test('describeMessage shows a snapshot with its conf state', () => {
  const cs = emptyConfState();
  cs.voters = [1n, 2n];
  const m = newMessage({ type: MessageType.MsgSnap, from: 1n, to: 3n, term: 2, snapshot: { data: new Uint8Array(0), metadata: { index: 11, term: 2, confState: cs } } });
  assert.equal(
    describeMessage(m),
    '1->3 MsgSnap Term:2 Log:0/0 Snapshot: Index:11 Term:2 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
  );
});

test('describeEntry decodes conf changes into etcd short forms', () => {
  const v1 = { term: 1, index: 1, type: EntryType.EntryConfChange, data: marshalConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: 2n, context: new Uint8Array(0) }) };
  assert.equal(describeEntry(v1), '1/1 EntryConfChange v2');
  const v2 = {
    term: 2,
    index: 5,
    type: EntryType.EntryConfChangeV2,
    data: marshalConfChangeV2({
      transition: 0,
      changes: [
        { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n },
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 3n },
      ],
      context: new Uint8Array(0),
    }),
  };
  assert.equal(describeEntry(v2), '2/5 EntryConfChangeV2 l4 r3');
  assert.equal(describeEntry({ term: 2, index: 6, type: EntryType.EntryConfChangeV2, data: new Uint8Array(0) }), '2/6 EntryConfChangeV2');
  assert.equal(describeEntry(ent(1, 2, 'x'), (d) => `<${d.length}>`), '1/2 EntryNormal <1>');
});

test('goQuote escapes like Go %q', () => {
  assert.equal(goQuote(new Uint8Array(0)), '""');
  assert.equal(goQuote(enc('a"b\\c\n')), '"a\\"b\\\\c\\n"');
  assert.equal(goQuote(new Uint8Array([0, 0x7f, 0xff])), '"\\x00\\x7f\\xff"');
  assert.equal(goQuote(enc('héllo')), '"héllo"');
});

test('describeHardState omits a zero vote; describeSoftState names the state', () => {
  assert.equal(describeHardState({ term: 2, vote: 0n, commit: 5 }), 'Term:2 Commit:5');
  assert.equal(describeHardState({ term: 2, vote: 3n, commit: 5 }), 'Term:2 Vote:3 Commit:5');
  assert.equal(describeSoftState({ lead: 1n, raftState: StateType.StateLeader }), 'Lead:1 State:StateLeader');
});

test('describeReady lists the parts present, or says it is empty', () => {
  assert.equal(describeReady({ readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false }), '<empty Ready>');
  const rd = {
    softState: { lead: 1n, raftState: StateType.StateLeader },
    hardState: { term: 1, vote: 1n, commit: 2 },
    readStates: [{ index: 2, requestCtx: enc('ab') }],
    entries: [ent(1, 3, 'foo')],
    committedEntries: [ent(1, 2, '')],
    messages: [newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, logTerm: 1, index: 2, commit: 2, entries: [ent(1, 3, 'foo')] })],
    mustSync: true,
  };
  assert.equal(
    describeReady(rd),
    [
      'Ready MustSync=true:',
      'Lead:1 State:StateLeader',
      'HardState Term:1 Vote:1 Commit:2',
      'ReadStates [{2 [97 98]}]',
      'Entries:',
      '1/3 EntryNormal "foo"',
      'CommittedEntries:',
      '1/2 EntryNormal ""',
      'Messages:',
      '1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal "foo"]',
      '',
    ].join('\n'),
  );
});
