import type { Entry, Message } from '../api/raftpb/types.js';
import { MessageType } from '../api/raftpb/types.js';
import { fail } from './errors.js';

const EMPTY_BYTES = new Uint8Array(0);
// Shared by messages without entries; frozen so an accidental push fails loudly.
const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[];

/**
 * A message of `type` to `to` with every other field zero. All fields are present so that every
 * message has the same object shape (one hidden class on the hot path).
 */
export function newMsg(type: MessageType, to: bigint): Message {
  return {
    type,
    to,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: NO_ENTRIES,
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
  };
}

/** A shallow copy of m (entries and snapshot shared), for forwarding a received message. */
export function copyMsg(m: Message): Message {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries,
    commit: m.commit,
    snapshot: m.snapshot,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
  };
}

/** Messages only the node itself produces; they must not arrive from the network. */
export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

/** Responses, which are only meaningful from a peer in the configuration. */
export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** The response type of a (pre-)vote request. */
export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  return fail(`not a vote message: ${MessageType[t]}`);
}

/** etcd's name of a message type, e.g. `MsgApp`. */
export function messageTypeName(t: MessageType): string {
  return MessageType[t] ?? `MessageType(${t})`;
}
