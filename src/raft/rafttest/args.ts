/** Parsing of the argument forms used by interaction commands. */
import { ConfChangeType, type ConfChangeSingle } from '../../api/raftpb/types.js';

/** A malformed command; its message becomes the command's output. */
export class CommandError extends Error {}

/** `(1,2,3)` (or `(1 2 3)`, `()`, `1,2`) as IDs. */
export function parseIdList(s: string): bigint[] {
  const body = s.replace(/^\(/, '').replace(/\)$/, '').trim();
  if (body === '') return [];
  return body.split(/[,\s]+/).map((w) => {
    if (!/^\d+$/.test(w)) throw new CommandError(`bad node ID ${w}`);
    return BigInt(w);
  });
}

/** The bare numeric words of a command line (node numbers), in order. */
export function parseNodeIds(words: readonly string[]): number[] {
  return words.filter((w) => /^\d+$/.test(w)).map(Number);
}

const TYPES: Record<string, ConfChangeType> = {
  v: ConfChangeType.ConfChangeAddNode,
  l: ConfChangeType.ConfChangeAddLearnerNode,
  r: ConfChangeType.ConfChangeRemoveNode,
  u: ConfChangeType.ConfChangeUpdateNode,
};

/** `v4 l5 r2 u3` as single conf changes: add voter 4, add learner 5, remove 2, update 3. */
export function parseChanges(words: readonly string[]): ConfChangeSingle[] {
  return words.map((w) => {
    const m = /^([vlru])(\d+)$/.exec(w);
    if (m === null) throw new CommandError(`bad conf change ${w} (want v<id>, l<id>, r<id> or u<id>)`);
    return { type: TYPES[m[1]!]!, nodeId: BigInt(m[2]!) };
  });
}
