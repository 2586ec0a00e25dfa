/**
 * Automatic compaction of the key-value history, scheduled as etcd 3.4's v3compactor does. Runs
 * on the leader only (paused on followers).
 *
 * - periodic (retention R ms): every R/10 (at most 6 min) it samples the store revision, keeping
 *   the last R/(R/10)+1 samples; once R has passed since the last success (after the first
 *   compaction, min(R, 1 h)), it compacts to the oldest sample, i.e. the revision of about R ago.
 * - revision (retention N): every 5 minutes it compacts to currentRevision - N, unless that is not
 *   positive or was compacted to already.
 *
 * A compaction that fails because the revision is already compacted counts as a success.
 */
import { isRpcError } from '../api/rpctypes/index.js';
import type { Logger } from '../pkg/logger.js';

/** What the compactor needs from the server. */
export interface CompactorTarget {
  /** The store's current revision. */
  rev(): number;
  /** Compacts to `rev` through raft. */
  compact(rev: number): Promise<void>;
}

/** A running compactor. */
export interface Compactor {
  /** Suspends compactions (this member is not the leader). */
  pause(): void;
  resume(): void;
  stop(): void;
}

/** Time and scheduling, replaceable in tests. */
export interface CompactorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** The system clock with unref'd timers. */
export const systemClock: CompactorClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

const HOUR_MS = 60 * 60 * 1000;
/** etcd's revision compactor interval. */
export const REVISION_COMPACT_INTERVAL_MS = 5 * 60 * 1000;
const RETRY_DIVISOR = 10;

abstract class Base implements Compactor {
  protected paused = true;
  protected stopped = false;
  private timer: { cancel(): void } | undefined;

  constructor(
    protected readonly target: CompactorTarget,
    protected readonly logger: Logger,
    protected readonly clock: CompactorClock,
  ) {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  protected schedule(ms: number, fn: () => Promise<void>): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void fn();
    }, ms);
  }

  /** Compacts to `rev`; resolves to whether it counts as done. */
  protected async tryCompact(rev: number, mode: string): Promise<boolean> {
    this.logger.info(`starting auto ${mode} compaction`, { revision: rev });
    try {
      await this.target.compact(rev);
    } catch (err) {
      if (!isRpcError(err, 'compacted')) {
        this.logger.warn(`failed auto ${mode} compaction`, { revision: rev, error: err });
        return false;
      }
    }
    this.logger.info(`completed auto ${mode} compaction`, { revision: rev });
    return true;
  }
}

/** etcd's Periodic compactor; `retentionMs` > 0. */
export class PeriodicCompactor extends Base {
  private readonly revs: number[] = [];
  private lastSuccess: number;
  private baseInterval: number;
  private readonly retryInterval: number;
  private readonly retentions: number;

  constructor(
    private readonly retentionMs: number,
    target: CompactorTarget,
    logger: Logger,
    clock: CompactorClock = systemClock,
  ) {
    super(target, logger, clock);
    const capped = Math.min(retentionMs, HOUR_MS);
    this.retryInterval = Math.max(1, Math.floor(capped / RETRY_DIVISOR));
    this.retentions = Math.floor(retentionMs / this.retryInterval) + 1;
    this.lastSuccess = clock.now();
    this.baseInterval = retentionMs;
    this.sample();
    this.schedule(this.retryInterval, () => this.turn());
  }

  private sample(): void {
    this.revs.push(this.target.rev());
    if (this.revs.length > this.retentions) this.revs.shift();
  }

  private async turn(): Promise<void> {
    if (this.stopped) return;
    if (!this.paused && this.clock.now() - this.lastSuccess >= this.baseInterval) {
      // The first compaction waits the whole retention; later ones run at most hourly.
      if (this.baseInterval === this.retentionMs) this.baseInterval = Math.min(this.retentionMs, HOUR_MS);
      if (await this.tryCompact(this.revs[0]!, 'periodic')) this.lastSuccess = this.clock.now();
    }
    this.sample();
    this.schedule(this.retryInterval, () => this.turn());
  }
}

/** etcd's Revision compactor; `retention` > 0 revisions. */
export class RevisionCompactor extends Base {
  private prev = 0;

  constructor(
    private readonly retention: number,
    target: CompactorTarget,
    logger: Logger,
    clock: CompactorClock = systemClock,
    private readonly intervalMs = REVISION_COMPACT_INTERVAL_MS,
  ) {
    super(target, logger, clock);
    this.schedule(this.intervalMs, () => this.turn());
  }

  private async turn(): Promise<void> {
    if (this.stopped) return;
    if (!this.paused) {
      const rev = this.target.rev() - this.retention;
      if (rev > 0 && rev !== this.prev && (await this.tryCompact(rev, 'revision'))) this.prev = rev;
    }
    this.schedule(this.intervalMs, () => this.turn());
  }
}

/** The compactor for --auto-compaction-mode/--auto-compaction-retention; undefined when disabled (retention 0). */
export function newCompactor(
  mode: 'periodic' | 'revision',
  retention: number,
  target: CompactorTarget,
  logger: Logger,
  clock: CompactorClock = systemClock,
): Compactor | undefined {
  if (retention <= 0) return undefined;
  return mode === 'periodic' ? new PeriodicCompactor(retention, target, logger, clock) : new RevisionCompactor(retention, target, logger, clock);
}
