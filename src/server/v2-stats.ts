/**
 * The counters behind etcd's /v2/stats/self and /v2/stats/leader (etcd's v2stats ServerStats and
 * LeaderStats): MsgApp messages this member sent (as leader) and received (as follower), the
 * rate of the last ones, and per follower the success/fail counts and latency of handing each
 * MsgApp to its peer stream (what etcd times: the encoding into the stream). Read-only for the
 * API edge; fed by {@link statsCountingSender} and {@link statsCountingReceiver}.
 */
import { MessageType, type Message } from '../api/raftpb/types.js';
import type { PeerReceiver } from './peer-receiver.js';
import type { PeerSender } from './peer-sender.js';

/** etcd's statsQueue capacity: rates are over the last 200 messages. */
const RATE_QUEUE = 200;
/** A rate queue whose newest entry is older than this reads as idle (etcd: one second). */
const RATE_IDLE_MS = 1000;

/** Latency of handing MsgApps to one follower, in ms (etcd's LatencyStats). */
export interface FollowerLatency {
  current: number;
  average: number;
  /** Mean of squares, for the standard deviation. */
  averageSquare: number;
  standardDeviation: number;
  minimum: number;
  maximum: number;
}

/** One follower's figures as the leader sees them (etcd's FollowerStats). */
export interface FollowerStats {
  readonly latency: FollowerLatency;
  readonly counts: { fail: number; success: number };
}

/** The last messages' times (ms) and sizes (bytes), a ring of {@link RATE_QUEUE}. */
class RateQueue {
  private readonly times = new Float64Array(RATE_QUEUE);
  private readonly sizes = new Float64Array(RATE_QUEUE);
  private next = 0;
  private count = 0;
  private totalSize = 0;

  insert(atMs: number, size: number): void {
    if (this.count === RATE_QUEUE) this.totalSize -= this.sizes[this.next]!;
    else this.count++;
    this.times[this.next] = atMs;
    this.sizes[this.next] = size;
    this.totalSize += size;
    this.next = (this.next + 1) % RATE_QUEUE;
  }

  /** Messages and bytes per second over the queue; zeros when idle (and then cleared). */
  rate(nowMs: number): { pkg: number; bandwidth: number } {
    if (this.count === 0) return { pkg: 0, bandwidth: 0 };
    const back = this.times[(this.next + RATE_QUEUE - 1) % RATE_QUEUE]!;
    const front = this.times[(this.next + RATE_QUEUE - this.count) % RATE_QUEUE]!;
    if (nowMs - back > RATE_IDLE_MS) {
      this.count = 0;
      this.totalSize = 0;
      return { pkg: 0, bandwidth: 0 };
    }
    const seconds = (back - front) / 1000;
    if (seconds <= 0) return { pkg: 0, bandwidth: 0 };
    return { pkg: this.count / seconds, bandwidth: this.totalSize / seconds };
  }
}

/** The raft data size of a MsgApp, as etcd's Message.Size() weighs it (entries' data plus framing). */
function messageSize(m: Message): number {
  let size = 32;
  for (const e of m.entries) size += e.data.length + 12;
  return size;
}

/** The v2 statistics of one member; see the file comment. Times come from `nowMs`. */
export class V2Stats {
  /** MsgApps received, and from which leader (etcd's RecvAppendRequestCnt). */
  recvAppendRequestCnt = 0;
  /** MsgApps sent to followers (etcd's SendAppendRequestCnt). */
  sendAppendRequestCnt = 0;
  /** Per follower ID. */
  readonly followers = new Map<bigint, FollowerStats>();
  /** The leader this member knows (0n: none yet) and since when (ms since the epoch). */
  leader = 0n;
  leaderSinceMs = 0;
  private readonly recvQueue = new RateQueue();
  private readonly sendQueue = new RateQueue();

  constructor(private readonly nowMs: () => number = () => performance.timeOrigin + performance.now()) {}

  /** Raft's leader changed (etcd's LeaderInfo: name and start time). */
  leaderChanged(leader: bigint): void {
    this.leader = leader;
    this.leaderSinceMs = this.nowMs();
  }

  /** A MsgApp from the leader arrived. */
  recvAppend(m: Message): void {
    this.recvAppendRequestCnt++;
    this.recvQueue.insert(this.nowMs(), messageSize(m));
  }

  /** MsgApps went to followers: `active` tells whether a follower's stream took them. */
  sendAppend(m: Message, active: boolean, latencyMs: number): void {
    this.sendAppendRequestCnt++;
    this.sendQueue.insert(this.nowMs(), messageSize(m));
    const f = this.follower(m.to);
    if (!active) {
      f.counts.fail++;
      return;
    }
    // etcd's FollowerStats.Succ: running mean and mean of squares.
    const l = f.latency;
    const n = f.counts.success;
    l.current = latencyMs;
    l.maximum = Math.max(l.maximum, latencyMs);
    l.minimum = Math.min(l.minimum, latencyMs);
    l.average = (n * l.average + latencyMs) / (n + 1);
    l.averageSquare = (n * l.averageSquare + latencyMs * latencyMs) / (n + 1);
    l.standardDeviation = Math.sqrt(Math.max(0, l.averageSquare - l.average * l.average));
    f.counts.success = n + 1;
  }

  /** The follower's figures, created on first use (minimum starts at 2^63 as in etcd). */
  follower(id: bigint): FollowerStats {
    let f = this.followers.get(id);
    if (f === undefined) {
      f = { latency: { current: 0, average: 0, averageSquare: 0, standardDeviation: 0, minimum: 2 ** 63, maximum: 0 }, counts: { fail: 0, success: 0 } };
      this.followers.set(id, f);
    }
    return f;
  }

  /** A member left: its follower figures go (etcd's RemoveFollower). */
  removeFollower(id: bigint): void {
    this.followers.delete(id);
  }

  /** Received MsgApps per second and bytes per second, over the last ones. */
  recvRate(): { pkg: number; bandwidth: number } {
    return this.recvQueue.rate(this.nowMs());
  }

  /** Sent MsgApps per second and bytes per second, over the last ones. */
  sendRate(): { pkg: number; bandwidth: number } {
    return this.sendQueue.rate(this.nowMs());
  }
}

/**
 * Wraps the host loop's sender so each MsgApp to a follower is counted, and timed as its hand-off
 * to the transport (the batch's time shared by its messages). `isActive` tells whether the
 * stream to a peer is up.
 */
export function statsCountingSender(inner: PeerSender, stats: V2Stats, isActive: (id: bigint) => boolean): PeerSender {
  return {
    send(messages: readonly Message[]): void {
      const start = performance.now();
      inner.send(messages);
      let apps = 0;
      for (let i = 0; i < messages.length; i++) if (messages[i]!.type === MessageType.MsgApp) apps++;
      if (apps === 0) return;
      const each = (performance.now() - start) / messages.length;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.type === MessageType.MsgApp) stats.sendAppend(m, isActive(m.to), each);
      }
    },
  };
}

/** Wraps the server's receiver so each MsgApp from the leader is counted (etcd's Process). */
export function statsCountingReceiver(inner: PeerReceiver, stats: V2Stats): PeerReceiver {
  return {
    ...inner,
    process(msg: Message): void {
      if (msg.type === MessageType.MsgApp) stats.recvAppend(msg);
      inner.process(msg);
    },
  };
}
