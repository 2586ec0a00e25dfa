/**
 * Handing leadership to another voter (etcd's MoveLeader and TransferLeadership): raft is asked to
 * transfer (Raft thesis §3.10: the leader brings the transferee's log up to date, then tells it to
 * campaign at once with MsgTimeoutNow), and the caller polls once per heartbeat until the
 * transferee leads or the deadline passes. A leader stopping gracefully hands over first so the
 * cluster does not wait out an election timeout.
 */
import type { Member } from './member.js';

/** The host loop operations a transfer needs. */
export interface TransferTarget {
  /** The current leader (0n: none known). */
  readonly lead: bigint;
  transferLeadership(transferee: bigint): void;
}

/**
 * The voter a stopping leader hands over to: among the other started voters with an active peer
 * stream, the one whose log matches the leader's furthest (it catches up soonest), the longest
 * connected on a tie. Undefined when there is none (a single member, or every peer is down).
 */
export function pickTransferee(
  selfId: bigint,
  members: readonly Member[],
  match: (id: bigint) => number | undefined,
  activeSince: (id: bigint) => number | undefined,
): bigint | undefined {
  let best: { id: bigint; match: number; since: number } | undefined;
  for (const m of members) {
    if (m.id === selfId || m.isLearner) continue;
    const since = activeSince(m.id);
    const mt = match(m.id);
    if (since === undefined || mt === undefined) continue;
    if (best === undefined || mt > best.match || (mt === best.match && since < best.since)) best = { id: m.id, match: mt, since };
  }
  return best?.id;
}

/**
 * Asks raft to transfer leadership to `transferee` and waits until it leads, polling every
 * `pollMs`. Resolves to whether it does by `timeoutMs`, or before `cancelled()` holds.
 */
export async function transferLeadership(
  node: TransferTarget,
  transferee: bigint,
  timeoutMs: number,
  pollMs: number,
  cancelled: () => boolean = () => false,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  if (node.lead !== transferee) node.transferLeadership(transferee);
  while (node.lead !== transferee) {
    if (performance.now() >= deadline || cancelled()) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}
