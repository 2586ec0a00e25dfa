/**
 * The checks etcd 3.4 makes before it proposes a membership change (etcdserver's mayAddMember,
 * mayRemoveMember, mayPromoteMember, isLearnerReady and membership's IsReadyTo*): with
 * --strict-reconfig-check a change must not leave the cluster without a quorum of started
 * (published) and connected voting members, and a learner is promoted only once it has caught up.
 */
import { rpcError, type RpcError } from '../api/rpctypes/index.js';
import type { Member } from './member.js';

/** etcd's HealthInterval: a peer counts as connected if its stream has been up this long. */
export const HEALTH_INTERVAL_MS = 5000;
/** etcd 3.4's limit of learners in a cluster (maxLearners). */
export const MAX_LEARNERS = 1;
/** A learner is in sync once its match index reaches this share of the leader's (etcd's readyPercent). */
export const LEARNER_READY_PERCENT = 0.9;

function voters(members: readonly Member[]): Member[] {
  return members.filter((m) => !m.isLearner);
}

/** A member is started once it published its name (etcd's IsStarted). */
function isStarted(m: Member): boolean {
  return m.name !== '';
}

/** Whether adding one more voter keeps a quorum of started voters (IsReadyToAddVotingMember). */
export function isReadyToAddVotingMember(members: readonly Member[]): boolean {
  let nmembers = 1;
  let nstarted = 0;
  for (const m of voters(members)) {
    if (isStarted(m)) nstarted++;
    nmembers++;
  }
  // A single started member may add a second (etcd's special case).
  if (nstarted === 1 && nmembers === 2) return true;
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

/** Whether removing voter `id` keeps a quorum of started voters (IsReadyToRemoveVotingMember). */
export function isReadyToRemoveVotingMember(members: readonly Member[], id: bigint): boolean {
  let nmembers = 0;
  let nstarted = 0;
  for (const m of voters(members)) {
    if (m.id === id) continue;
    if (isStarted(m)) nstarted++;
    nmembers++;
  }
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

/** Whether promoting learner `id` keeps a quorum of started voters (IsReadyToPromoteMember). */
export function isReadyToPromoteMember(members: readonly Member[], id: bigint): boolean {
  let nmembers = 1;
  let nstarted = 1;
  for (const m of voters(members)) {
    if (m.id === id) continue;
    if (isStarted(m)) nstarted++;
    nmembers++;
  }
  return nstarted >= Math.floor(nmembers / 2) + 1;
}

/** How this member sees its peers' streams: when each became active (undefined: not active). */
export type ActiveSince = (id: bigint) => number | undefined;

/** Voters (this member included) connected since `since` ms (numConnectedSince). */
export function numConnectedSince(members: readonly Member[], selfId: bigint, activeSince: ActiveSince, since: number): number {
  let n = 0;
  for (const m of voters(members)) {
    if (m.id === selfId) {
      n++;
      continue;
    }
    const t = activeSince(m.id);
    if (t !== undefined && t <= since) n++;
  }
  return n;
}

/** The check before adding a member (mayAddMember). */
export function mayAddMember(strict: boolean, members: readonly Member[], isLearner: boolean, selfId: bigint, activeSince: ActiveSince, now: number): RpcError | undefined {
  if (!strict) return undefined;
  if (!isLearner && !isReadyToAddVotingMember(members)) return rpcError('member-not-enough-started');
  const vs = voters(members);
  if (numConnectedSince(vs, selfId, activeSince, now - HEALTH_INTERVAL_MS) < vs.length) return rpcError('unhealthy');
  return undefined;
}

/** The check before removing member `id` (mayRemoveMember). */
export function mayRemoveMember(strict: boolean, members: readonly Member[], id: bigint, selfId: bigint, activeSince: ActiveSince, now: number): RpcError | undefined {
  if (!strict) return undefined;
  const target = members.find((m) => m.id === id);
  if (target?.isLearner === true) return undefined;
  if (!isReadyToRemoveVotingMember(members, id)) return rpcError('member-not-enough-started');
  // A member that is down is not part of the active quorum: removing it is safe.
  if (id !== selfId && activeSince(id) === undefined) return undefined;
  const vs = voters(members);
  const active = numConnectedSince(vs, selfId, activeSince, now - HEALTH_INTERVAL_MS);
  if (active - 1 < 1 + Math.floor((vs.length - 1) / 2)) return rpcError('unhealthy');
  return undefined;
}

/** The check before promoting learner `id` (mayPromoteMember). */
export function mayPromoteMember(strict: boolean, members: readonly Member[], id: bigint): RpcError | undefined {
  if (!strict) return undefined;
  return isReadyToPromoteMember(members, id) ? undefined : rpcError('member-not-enough-started');
}

/** Whether a learner whose log matches to `learnerMatch` is in sync with a leader at `leaderMatch` (isLearnerReady). */
export function isLearnerInSync(leaderMatch: number, learnerMatch: number): boolean {
  return learnerMatch >= leaderMatch * LEARNER_READY_PERCENT;
}
