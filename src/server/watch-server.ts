/**
 * The member's side of watches: the WatchableStore over its MVCC store, and the timer that runs
 * the store's `sync` (catching up watchers that start in the past or fell behind) every 100 ms,
 * at once again while it still has work and the backlog shrinks (etcd's syncWatchersLoop).
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { WatchableStore, type KvStore } from '../mvcc/index.js';
import type { Logger } from '../pkg/logger.js';
import type { WatchApi, WatchStreamApi } from './watch-api.js';

/** etcd's watch sync period. */
export const WATCH_SYNC_INTERVAL_MS = 100;

/** Sync rounds run back to back before the timer's period applies again. */
const MAX_IMMEDIATE_SYNCS = 200;

/** What the watch side needs from its member. */
export interface WatchServerDeps {
  readonly kv: KvStore;
  readonly logger: Logger;
  /** A response header for revision `rev`. */
  readonly header: (rev: number) => pb.ResponseHeader;
  /** Whether the backend is taken by an exclusive operation (defrag): sync waits. */
  readonly backendBusy: () => boolean;
}

/** See the file comment. */
export class WatchServer implements WatchApi {
  /** The store every write notifies. */
  readonly store: WatchableStore;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastBehind = 0;
  private immediateRuns = 0;
  private stopped = false;

  constructor(private readonly d: WatchServerDeps) {
    this.store = new WatchableStore(d.kv);
  }

  /** Starts the sync timer. */
  start(): void {
    this.schedule(WATCH_SYNC_INTERVAL_MS);
  }

  /** Stops syncing and detaches from the store's writes. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.store.close();
  }

  /** Watches `kv`, which replaced the member's store (a leader's snapshot); watchers catch up from it. */
  restore(kv: KvStore): void {
    this.store.restore(kv);
    this.kickSync();
  }

  newWatchStream(): WatchStreamApi {
    return this.store.newWatchStream() as unknown as WatchStreamApi;
  }

  watchHeader(rev: number): pb.ResponseHeader {
    return this.d.header(rev);
  }

  kickSync(): void {
    if (this.stopped || this.immediate !== undefined) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.runSync();
    });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runSync();
    }, ms);
    this.timer.unref();
  }

  private runSync(): void {
    if (this.stopped) return;
    if (this.d.backendBusy()) {
      this.schedule(WATCH_SYNC_INTERVAL_MS);
      return;
    }
    let behind = 0;
    try {
      behind = this.store.sync();
    } catch (err) {
      this.d.logger.error('watch sync failed', { error: err instanceof Error ? err.message : String(err) });
    }
    // Go again at once while the backlog shrinks or watchers read history (etcd waits only when
    // it does not shrink); a bounded run of immediate rounds keeps a stuck one from spinning.
    const again = behind > 0 && (behind < this.lastBehind || this.store.unsyncedCount > 0) && this.immediateRuns < MAX_IMMEDIATE_SYNCS;
    this.immediateRuns = again ? this.immediateRuns + 1 : 0;
    this.lastBehind = behind;
    if (again) this.kickSync();
    else this.schedule(WATCH_SYNC_INTERVAL_MS);
  }
}
