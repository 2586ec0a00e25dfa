/**
 * A writer loop over gRPC: `concurrency` workers put unique keys (`<prefix><seq>` = `v<seq>`),
 * one per request or `batch` per transaction,
 * each trying the next member when one fails, and remember every write a member acknowledged, with
 * when it was sent and when it was acknowledged. Tests check afterwards that no acknowledged write
 * was lost; a write that failed may or may not have been applied, so it proves nothing either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemberClient } from './member-client.js';

/** What a finished load did. */
export interface WriteLoadResult {
  /** Every acknowledged key with its value. */
  readonly acked: ReadonlyMap<string, string>;
  /** Failed attempts (timeouts, "no leader", connection refused...). */
  readonly failures: number;
  /** The highest revision any acknowledgement carried. */
  readonly maxRevision: number;
}

/** A running write load. */
export class WriteLoad {
  private readonly acked = new Map<string, string>();
  private readonly sentAt: number[] = [];
  private readonly ackedAt: number[] = [];
  private failures = 0;
  private maxRevision = 0;
  private seq = 0;
  private stopped = false;
  private readonly workers: Promise<void>[] = [];

  /** Starts `concurrency` workers writing through `clients` until stop() or `limit` keys were attempted. */
  constructor(
    private readonly clients: readonly MemberClient[],
    private readonly prefix: string,
    concurrency: number,
    private readonly limit = Infinity,
    private readonly putTimeoutMs = 3_000,
    private readonly batch = 1,
  ) {
    for (let w = 0; w < concurrency; w++) this.workers.push(this.work(w));
  }

  /** How many writes have been acknowledged so far. */
  get ackedCount(): number {
    return this.acked.size;
  }

  private async work(worker: number): Promise<void> {
    let target = worker % this.clients.length;
    while (!this.stopped && this.seq < this.limit) {
      const pairs: [string, string][] = [];
      for (let i = 0; i < this.batch && this.seq < this.limit; i++) {
        const n = this.seq++;
        pairs.push([`${this.prefix}${String(n).padStart(8, '0')}`, `v${n}`]);
      }
      const sent = Date.now();
      try {
        const client = this.clients[target]!;
        const revision = pairs.length === 1 ? await client.put(pairs[0]![0], pairs[0]![1], this.putTimeoutMs) : await client.putAll(pairs, this.putTimeoutMs);
        for (const [key, value] of pairs) this.acked.set(key, value);
        this.sentAt.push(sent);
        this.ackedAt.push(Date.now());
        if (revision > this.maxRevision) this.maxRevision = revision;
      } catch {
        this.failures++;
        target = (target + 1) % this.clients.length;
        await sleep(10);
      }
    }
  }

  /** Resolves once `count` writes have been acknowledged in all (or throws after `timeoutMs`). */
  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.acked.size} of ${count} writes acknowledged after ${timeoutMs} ms (${this.failures} failures)`);
      await sleep(10);
    }
  }

  /** When the first write sent at or after `t` was acknowledged, or undefined if none was yet. */
  firstAckOfWriteSentAfter(t: number): number | undefined {
    let best: number | undefined;
    for (let i = 0; i < this.sentAt.length; i++) {
      if (this.sentAt[i]! >= t && (best === undefined || this.ackedAt[i]! < best)) best = this.ackedAt[i]!;
    }
    return best;
  }

  /** Stops the workers (in-flight writes finish or time out) and returns what was acknowledged. */
  async stop(): Promise<WriteLoadResult> {
    this.stopped = true;
    await Promise.all(this.workers);
    return { acked: this.acked, failures: this.failures, maxRevision: this.maxRevision };
  }

  /** Waits for the load to reach its limit, then returns what was acknowledged. */
  async finish(): Promise<WriteLoadResult> {
    await Promise.all(this.workers);
    return { acked: this.acked, failures: this.failures, maxRevision: this.maxRevision };
  }
}
