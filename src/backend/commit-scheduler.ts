/** etcd's default backend batch interval (--backend-batch-interval): 100 ms. */
export const DEFAULT_BATCH_INTERVAL_MS = 100;
/** etcd's default backend batch limit (--backend-batch-limit): 10,000 writes. */
export const DEFAULT_BATCH_LIMIT = 10_000;

/** Tuning of a CommitScheduler. */
export interface CommitSchedulerOptions {
  /** Longest time written data waits in the open batch. Default DEFAULT_BATCH_INTERVAL_MS. */
  readonly intervalMs?: number;
  /** Writes in the open batch that make it commit at once. Default DEFAULT_BATCH_LIMIT. */
  readonly limit?: number;
}

/**
 * Decides when the backend's open batch is committed, as etcd's backend does (a commit every batch
 * interval or every batch limit writes, whichever comes first) instead of one lmdb transaction, and
 * one fsync, per apply. This is safe because the WAL already holds every applied entry durably and
 * the consistent index is written into the same batch as the data it covers: after a crash the
 * backend is at some earlier apply boundary and the WAL replays the rest.
 */
export class CommitScheduler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly limit: number;

  /**
   * @param pendingOps the number of writes in the open batch
   * @param commit commits the open batch (and must call `committed`)
   */
  constructor(
    private readonly pendingOps: () => number,
    private readonly commit: () => void,
    options: CommitSchedulerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.limit = options.limit ?? DEFAULT_BATCH_LIMIT;
  }

  /** Writes landed in the open batch: commit now when it is full, else within the interval. */
  written(): void {
    if (this.stopped) return;
    if (this.pendingOps() >= this.limit) {
      this.fire();
      return;
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(this.fire, this.intervalMs);
      // A pending batch must not keep the process alive: closing the backend commits it.
      this.timer.unref();
    }
  }

  /** The open batch was committed (by the scheduler or anyone else): no commit is due. */
  committed(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Schedules nothing more; whoever stops commits what is left (Backend.close does). */
  stop(): void {
    this.stopped = true;
    this.committed();
  }

  private readonly fire = (): void => {
    this.committed();
    if (!this.stopped) this.commit();
  };
}
