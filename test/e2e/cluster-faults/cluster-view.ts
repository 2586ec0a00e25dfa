/**
 * What a test asks of a running cluster: who leads, whether all members hold the same data, and
 * the figures etcd's own tooling shows. Every wait polls Maintenance.Status over gRPC (every
 * 20 ms, so measured election times are accurate to about that) and fails with what it last saw.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Member } from '../harness/index.js';
import { MemberClient, type MemberStatus } from './member-client.js';

/** Raft timing every cluster test passes to its members (etcd's defaults, made explicit). */
export const HEARTBEAT_MS = 100;
/** The election timeout, in ms (`--election-timeout`). */
export const ELECTION_MS = 1_000;
/** Flags fixing the raft timing above. */
export const TIMING_ARGS: readonly string[] = [`--heartbeat-interval=${HEARTBEAT_MS}`, `--election-timeout=${ELECTION_MS}`];

const POLL_MS = 20;

/** A member's status, or the error text when it did not answer. */
async function statusOrError(c: MemberClient, timeoutMs: number): Promise<MemberStatus | string> {
  try {
    return await c.status(timeoutMs);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function describe(statuses: readonly (MemberStatus | string)[]): string {
  return statuses
    .map((s) => (typeof s === 'string' ? `(${s})` : `{id ${s.memberId.toString(16)} leader ${s.leader.toString(16)} term ${s.raftTerm} rev ${s.revision} index ${s.raftIndex}}`))
    .join(' ');
}

/** The leader that every client in `clients` agrees on, with its term. */
export interface LeaderView {
  readonly leader: bigint;
  readonly term: number;
}

/**
 * Waits until every client answers and all name the same leader in the same term, the leader being
 * one of them and satisfying `accept` (e.g. "not the one just killed").
 */
export async function waitForLeader(
  clients: readonly MemberClient[],
  timeoutMs: number,
  accept: (v: LeaderView) => boolean = () => true,
): Promise<LeaderView> {
  const deadline = Date.now() + timeoutMs;
  let last: (MemberStatus | string)[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(clients.map((c) => statusOrError(c, 500)));
    const ok = last.filter((s): s is MemberStatus => typeof s !== 'string');
    if (ok.length === clients.length) {
      const v = { leader: ok[0]!.leader, term: ok[0]!.raftTerm };
      const agreed = ok.every((s) => s.leader === v.leader && s.raftTerm === v.term);
      if (agreed && v.leader !== 0n && ok.some((s) => s.memberId === v.leader) && accept(v)) return v;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no agreed leader within ${timeoutMs} ms; last statuses: ${describe(last)}`);
}

/** Waits until `pred` holds for the status of `client` (polling); returns that status. */
export async function waitForStatus(client: MemberClient, timeoutMs: number, pred: (s: MemberStatus) => boolean): Promise<MemberStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: MemberStatus | string = 'not asked';
  while (Date.now() < deadline) {
    last = await statusOrError(client, 500);
    if (typeof last !== 'string' && pred(last)) return last;
    await sleep(POLL_MS);
  }
  throw new Error(`status of ${client.endpoint} did not reach the expected state within ${timeoutMs} ms; last: ${describe([last])}`);
}

/**
 * Waits until all members report the same store revision, then checks that HashKV at that
 * revision is equal everywhere. Returns the revision and hash.
 */
export async function assertConverged(clients: readonly MemberClient[], timeoutMs: number): Promise<{ revision: number; hash: number }> {
  const deadline = Date.now() + timeoutMs;
  let last: (MemberStatus | string)[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(clients.map((c) => statusOrError(c, 1_000)));
    const revs = new Set(last.map((s) => (typeof s === 'string' ? -1 : s.revision)));
    if (revs.size === 1 && !revs.has(-1)) {
      const revision = (last[0] as MemberStatus).revision;
      const hashes = await Promise.all(clients.map((c) => c.hashKv(revision)));
      assert.deepEqual(
        hashes.map((h) => h.hash),
        hashes.map(() => hashes[0]!.hash),
        `HashKV at revision ${revision} differs between members: ${hashes.map((h, i) => `${clients[i]!.endpoint}=${h.hash}`).join(' ')}`,
      );
      return { revision, hash: hashes[0]!.hash };
    }
    await sleep(50);
  }
  throw new Error(`members did not reach one revision within ${timeoutMs} ms; last: ${describe(last)}`);
}

/** The member whose expected ID is `id`. */
export function memberWithId(members: readonly Member[], id: bigint): Member {
  const m = members.find((x) => x.expectedId === id);
  if (m === undefined) throw new Error(`no member has ID ${id.toString(16)}`);
  return m;
}
