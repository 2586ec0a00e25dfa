/**
 * The durable side of a member's raft log (etcd's etcdserver storage): the WAL for hard state and
 * entries, snapshot files with a WAL marker for each, and the release of WAL segments and old
 * snapshot files once a snapshot covers them.
 */
import { basename } from 'node:path';
import type { HardState, Snapshot } from '../api/raftpb/types.js';
import type { Snapshotter } from '../snap/index.js';
import type { Wal } from '../wal/index.js';
import { parseWalName } from '../wal/file-names.js';

/** Retention of old files, as etcd's --max-wals and --max-snapshots (0: keep all). */
export interface Retention {
  readonly maxWals: number;
  readonly maxSnapshots: number;
}

/** The WAL and snapshot files of one member. */
export class RaftStorage {
  private releasing: Promise<void> = Promise.resolve();

  constructor(
    readonly wal: Wal,
    readonly snapshotter: Snapshotter,
    private readonly retention: Retention,
  ) {}

  /** Appends a Ready's hard state and entries; fsynced when `mustSync`. */
  save(hardState: HardState, entries: Parameters<Wal['save']>[1], mustSync: boolean): Promise<void> {
    return this.wal.save(hardState, entries, mustSync);
  }

  /**
   * Makes `snap` durable: the snapshot file first, then its WAL marker, so that recovery only ever
   * finds markers whose file exists (etcd's SaveSnap order).
   */
  async saveSnapshot(snap: Snapshot): Promise<void> {
    await this.snapshotter.save(snap);
    await this.wal.saveSnapshot({ index: snap.metadata.index, term: snap.metadata.term });
  }

  /**
   * Deletes WAL segments not needed to recover from the snapshot at `snapIndex`, keeping up to
   * --max-wals segments in all (0: none deleted), and snapshot files beyond --max-snapshots.
   * The caller guarantees the state machine is durable at `snapIndex` (the backend flushed).
   * Resolves to the numbers of files deleted.
   */
  release(snapIndex: number): Promise<{ wals: number; snaps: number }> {
    // One release at a time: two could otherwise delete the same file.
    const next = this.releasing.then(() => this.releaseNow(snapIndex));
    this.releasing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async releaseNow(snapIndex: number): Promise<{ wals: number; snaps: number }> {
    let wals = 0;
    if (this.retention.maxWals > 0) {
      const segs = this.wal.segmentFiles();
      // Deleting only what recovery no longer needs may leave more than max-wals (as in etcd,
      // a segment still needed is never deleted); otherwise keep the newest max-wals.
      let releaseTo = snapIndex;
      if (segs.length > this.retention.maxWals) {
        const oldestKept = parseWalName(basename(segs[segs.length - this.retention.maxWals]!));
        if (oldestKept !== undefined) releaseTo = Math.min(snapIndex, oldestKept.index + 1);
      } else {
        releaseTo = 0;
      }
      if (releaseTo > 0) wals = await this.wal.releaseLockTo(releaseTo);
    }
    let snaps = 0;
    if (this.retention.maxSnapshots > 0) snaps = (await this.snapshotter.purge(this.retention.maxSnapshots)).length;
    return { wals, snaps };
  }

  /** Flushes and closes the WAL. */
  close(): Promise<void> {
    return this.wal.close();
  }
}
