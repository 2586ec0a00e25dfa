/**
 * The bodies of /v2/stats/self and /v2/stats/leader as etcd's v2stats writes them (Go's
 * encoding/json of ServerStats and LeaderStats: fields in declaration order, rates left out when
 * zero, followers sorted by ID, floats in Go's shortest form).
 */
import { formatId } from '../../server/config/ids.js';
import { formatRfc3339Nano } from '../../server/v2-server.js';
import type { FollowerStats } from '../../server/v2-stats.js';
import { goDuration } from './go-duration.js';

/** The counters the bodies are made of (the member's V2Stats). */
export interface V2StatsSource {
  readonly recvAppendRequestCnt: number;
  readonly sendAppendRequestCnt: number;
  /** The leader raft last reported (0n: none) and since when, in ms since the epoch. */
  readonly leader: bigint;
  readonly leaderSinceMs: number;
  recvRate(): { pkg: number; bandwidth: number };
  sendRate(): { pkg: number; bandwidth: number };
  follower(id: bigint): FollowerStats;
}

/** Go's encoding/json form of a float64: shortest digits, exponent form below 1e-6 and from 1e21. */
export function goFloat(n: number): string {
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go writes at least two exponent digits: 1e-07.
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

/** What /v2/stats/self reports besides the counters. */
export interface SelfStatsInfo {
  readonly name: string;
  readonly id: bigint;
  readonly state: 'StateLeader' | 'StateFollower' | 'StateCandidate';
  readonly startTimeMs: number;
  readonly leader: bigint;
  readonly leaderSinceMs: number;
  readonly nowMs: number;
}

/** The /v2/stats/self body. */
export function selfStatsJson(info: SelfStatsInfo, stats: V2StatsSource): string {
  const parts = [
    `{"name":${JSON.stringify(info.name)},"id":"${formatId(info.id)}","state":"${info.state}","startTime":"${formatRfc3339Nano(info.startTimeMs)}"`,
    `,"leaderInfo":{"leader":"${formatId(info.leader)}","uptime":"${goDuration(BigInt(Math.max(0, Math.round(info.nowMs - info.leaderSinceMs))) * 1_000_000n)}","startTime":"${formatRfc3339Nano(info.leaderSinceMs)}"}`,
    `,"recvAppendRequestCnt":${stats.recvAppendRequestCnt}`,
  ];
  const recv = stats.recvRate();
  if (recv.pkg !== 0) parts.push(`,"recvPkgRate":${goFloat(recv.pkg)}`);
  if (recv.bandwidth !== 0) parts.push(`,"recvBandwidthRate":${goFloat(recv.bandwidth)}`);
  parts.push(`,"sendAppendRequestCnt":${stats.sendAppendRequestCnt}`);
  const send = stats.sendRate();
  if (send.pkg !== 0) parts.push(`,"sendPkgRate":${goFloat(send.pkg)}`);
  if (send.bandwidth !== 0) parts.push(`,"sendBandwidthRate":${goFloat(send.bandwidth)}`);
  parts.push('}');
  return parts.join('');
}

/** The /v2/stats/leader body of leader `leader` with followers `followers` (every other member). */
export function leaderStatsJson(leader: bigint, followers: readonly bigint[], stats: V2StatsSource): string {
  const entries = followers
    .map((id) => [formatId(id), stats.follower(id)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, f]) => {
      const l = f.latency;
      return `"${id}":{"latency":{"current":${goFloat(l.current)},"average":${goFloat(l.average)},"standardDeviation":${goFloat(l.standardDeviation)},"minimum":${goFloat(l.minimum)},"maximum":${goFloat(l.maximum)}},"counts":{"fail":${f.counts.fail},"success":${f.counts.success}}}`;
    });
  return `{"leader":"${formatId(leader)}","followers":{${entries.join(',')}}}`;
}
