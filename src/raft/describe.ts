import type { Entry, HardState, Message, Snapshot } from '../api/raftpb/types.js';
import { EntryType } from '../api/raftpb/types.js';
import { confChangesToString, confChangeToV2, describeConfState } from './confchange/index.js';
import { unmarshalConfChange, unmarshalConfChangeV2 } from './conf-change-codec.js';
import { hexId } from './logger.js';
import { messageTypeName } from './messages.js';
import type { ReadState, Ready, SoftState } from './ready.js';
import { stateTypeName } from './ready.js';

/*
 * Deterministic one-line text forms of raft's values, as etcd's raft/util.go prints them. Tests
 * and golden files compare these strings, so the formats are part of the contract.
 */

/** Formats the data of a normal entry; the default quotes it like Go's %q. */
export type EntryFormatter = (data: Uint8Array) => string;

const HEX = '0123456789abcdef';

function isPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  // A zero-width no-break space is escaped (Go's unicode.IsPrint rejects it); other runes show.
  return cp !== 0xfeff;
}

// Decodes one UTF-8 sequence at i: [codePoint, length], or undefined if malformed.
function decodeRune(b: Uint8Array, i: number): [number, number] | undefined {
  const c = b[i]!;
  let need: number;
  let cp: number;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    cp = c & 0x07;
  } else {
    return undefined;
  }
  for (let k = 1; k <= need; k++) {
    const cc = b[i + k];
    if (cc === undefined || (cc & 0xc0) !== 0x80) return undefined;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Reject overlong forms, surrogates and out-of-range values.
  if ((need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
    return undefined;
  }
  return [cp, need + 1];
}

/** Quotes bytes as Go's %q does for a string: printable UTF-8 kept, the rest escaped. */
export function goQuote(b: Uint8Array): string {
  let s = '"';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      switch (c) {
        case 0x07:
          s += '\\a';
          continue;
        case 0x08:
          s += '\\b';
          continue;
        case 0x0c:
          s += '\\f';
          continue;
        case 0x0a:
          s += '\\n';
          continue;
        case 0x0d:
          s += '\\r';
          continue;
        case 0x09:
          s += '\\t';
          continue;
        case 0x0b:
          s += '\\v';
          continue;
        case 0x22:
          s += '\\"';
          continue;
        case 0x5c:
          s += '\\\\';
          continue;
      }
      s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${HEX[c >> 4]}${HEX[c & 15]}`;
      continue;
    }
    const r = decodeRune(b, i);
    if (r === undefined) {
      s += `\\x${HEX[c >> 4]}${HEX[c & 15]}`;
      i++;
      continue;
    }
    const [cp, len] = r;
    if (isPrintable(cp)) s += String.fromCodePoint(cp);
    else if (cp < 0x10000) s += `\\u${cp.toString(16).padStart(4, '0')}`;
    else s += `\\U${cp.toString(16).padStart(8, '0')}`;
    i += len;
  }
  return s + '"';
}

/** etcd's name of an entry type, e.g. `EntryNormal`. */
export function entryTypeName(t: EntryType): string {
  return EntryType[t] ?? `EntryType(${t})`;
}

/** e.g. `1/3 EntryNormal "foo"`, `2/5 EntryConfChangeV2 v4 l5`. */
export function describeEntry(e: Entry, f: EntryFormatter = goQuote): string {
  let formatted: string;
  switch (e.type) {
    case EntryType.EntryNormal:
      formatted = f(e.data);
      break;
    case EntryType.EntryConfChange:
      try {
        formatted = confChangesToString(confChangeToV2(unmarshalConfChange(e.data)).changes);
      } catch (err) {
        formatted = (err as Error).message;
      }
      break;
    case EntryType.EntryConfChangeV2:
      try {
        formatted = confChangesToString(unmarshalConfChangeV2(e.data).changes);
      } catch (err) {
        formatted = (err as Error).message;
      }
      break;
    default:
      formatted = f(e.data);
  }
  return `${e.term}/${e.index} ${entryTypeName(e.type)}${formatted === '' ? '' : ' ' + formatted}`;
}

/** One described entry per line, each ending in a newline. */
export function describeEntries(ents: readonly Entry[], f: EntryFormatter = goQuote): string {
  let s = '';
  for (const e of ents) s += describeEntry(e, f) + '\n';
  return s;
}

/** e.g. `Index:5 Term:2 ConfState:Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false`. */
export function describeSnapshot(s: Snapshot): string {
  return `Index:${s.metadata.index} Term:${s.metadata.term} ConfState:${describeConfState(s.metadata.confState)}`;
}

/** e.g. `1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal "foo"]` (IDs in hex). */
export function describeMessage(m: Message, f: EntryFormatter = goQuote): string {
  let s = `${hexId(m.from)}->${hexId(m.to)} ${messageTypeName(m.type)} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) {
    s += ' Entries:[';
    for (let i = 0; i < m.entries.length; i++) {
      if (i !== 0) s += ', ';
      s += describeEntry(m.entries[i]!, f);
    }
    s += ']';
  }
  if (m.snapshot !== undefined && m.snapshot.metadata.index !== 0) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

/** e.g. `Term:2 Vote:1 Commit:5` (Vote omitted when 0). */
export function describeHardState(hs: HardState): string {
  let s = `Term:${hs.term}`;
  if (hs.vote !== 0n) s += ` Vote:${hs.vote}`;
  return s + ` Commit:${hs.commit}`;
}

/** e.g. `Lead:1 State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${stateTypeName(ss.raftState)}`;
}

/** Go's %v of a ReadState slice, e.g. `[{5 [102 111 111]}]`. */
export function describeReadStates(rss: readonly ReadState[]): string {
  return `[${rss.map((rs) => `{${rs.index} [${Array.from(rs.requestCtx).join(' ')}]}`).join(' ')}]`;
}

/**
 * A multi-line description of a Ready, `<empty Ready>` when there is nothing in it:
 *   Ready MustSync=true:
 *   Lead:1 State:StateLeader
 *   HardState Term:1 Vote:1 Commit:3
 *   Entries:
 *   1/4 EntryNormal "foo"
 *   Messages:
 *   1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "foo"]
 */
export function describeReady(rd: Ready, f: EntryFormatter = goQuote): string {
  let s = '';
  if (rd.softState !== undefined) s += describeSoftState(rd.softState) + '\n';
  if (rd.hardState !== undefined && !(rd.hardState.term === 0 && rd.hardState.vote === 0n && rd.hardState.commit === 0)) {
    s += `HardState ${describeHardState(rd.hardState)}\n`;
  }
  if (rd.readStates.length > 0) s += `ReadStates ${describeReadStates(rd.readStates)}\n`;
  if (rd.entries.length > 0) s += 'Entries:\n' + describeEntries(rd.entries, f);
  if (rd.snapshot !== undefined && rd.snapshot.metadata.index !== 0) s += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  if (rd.committedEntries.length > 0) s += 'CommittedEntries:\n' + describeEntries(rd.committedEntries, f);
  if (rd.messages.length > 0) {
    s += 'Messages:\n';
    for (const m of rd.messages) s += describeMessage(m, f) + '\n';
  }
  return s === '' ? '<empty Ready>' : `Ready MustSync=${rd.mustSync}:\n${s}`;
}
