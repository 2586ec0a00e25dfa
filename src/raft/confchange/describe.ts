import { ConfChangeType, type ConfChangeSingle, type ConfState } from '../../api/raftpb/types.js';

function list(ids: readonly bigint[]): string {
  return `[${ids.join(' ')}]`;
}

/** e.g. `Voters:[1 2 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false`, as etcd logs it. */
export function describeConfState(cs: ConfState): string {
  return (
    `Voters:${list(cs.voters)} VotersOutgoing:${list(cs.votersOutgoing)} ` +
    `Learners:${list(cs.learners)} LearnersNext:${list(cs.learnersNext)} AutoLeave:${cs.autoLeave}`
  );
}

function sortedCopy(ids: readonly bigint[]): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameIds(a: readonly bigint[], b: readonly bigint[]): boolean {
  if (a.length !== b.length) return false;
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  return x.every((id, i) => id === y[i]);
}

/** Whether two ConfStates describe the same config, ignoring the order of IDs. */
export function confStateEquivalent(a: ConfState, b: ConfState): boolean {
  return (
    a.autoLeave === b.autoLeave &&
    sameIds(a.voters, b.voters) &&
    sameIds(a.votersOutgoing, b.votersOutgoing) &&
    sameIds(a.learners, b.learners) &&
    sameIds(a.learnersNext, b.learnersNext)
  );
}

const LETTERS: Record<string, ConfChangeType> = {
  v: ConfChangeType.ConfChangeAddNode,
  l: ConfChangeType.ConfChangeAddLearnerNode,
  r: ConfChangeType.ConfChangeRemoveNode,
  u: ConfChangeType.ConfChangeUpdateNode,
};

/**
 * Parses space-separated operations: `vN` make N a voter, `lN` a learner, `rN` remove N,
 * `uN` update N. Throws on a malformed token (a test and tooling helper).
 */
export function confChangesFromString(s: string): ConfChangeSingle[] {
  const out: ConfChangeSingle[] = [];
  for (const tok of s.trim().split(/\s+/)) {
    if (tok === '') continue;
    const type = LETTERS[tok[0]!];
    if (type === undefined || !/^\d+$/.test(tok.slice(1))) throw new Error(`unknown token ${tok}`);
    out.push({ type, nodeId: BigInt(tok.slice(1)) });
  }
  return out;
}

/** The inverse of confChangesFromString. */
export function confChangesToString(ccs: readonly ConfChangeSingle[]): string {
  const letter = ['v', 'r', 'u', 'l'];
  return ccs.map((cc) => `${letter[cc.type] ?? 'unknown'}${cc.nodeId}`).join(' ');
}
