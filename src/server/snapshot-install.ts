/**
 * Installing a leader's snapshot on a follower (etcd's applySnapshot): the backend streamed with
 * the MsgSnap waits in the snap dir as `<index>.snap.db` (see cluster-snapshot.ts); once raft made
 * the snapshot durable (its .snap file and WAL marker), the backend file is replaced by it and
 * every state machine kept in the backend is opened again over it: lessor before MVCC store
 * (whose restore re-attaches keys to leases), watchers moved to catch up from the new store,
 * membership and alarms reloaded, and the v2 store recovered from the raft snapshot's data.
 *
 * The same file also finishes an install a crash interrupted (etcd's recoverSnapshotBackend): at
 * boot, a snapshot whose index is past the backend's consistent index takes its received backend.
 */
import { open as openFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { Snapshot } from '../api/raftpb/types.js';
import { Backend } from '../backend/backend.js';
import type { Lessor } from '../lease/index.js';
import { KvStore } from '../mvcc/index.js';
import type { Logger } from '../pkg/logger.js';
import { AlarmStore } from './alarm-store.js';
import { receivedSnapshotPath } from './cluster-snapshot.js';
import type { DataDirLayout } from './data-dir.js';
import { MembershipStore } from './membership-store.js';
import type { V2Server } from './v2-server.js';
import type { WatchServer } from './watch-server.js';

/**
 * The state machines that live in the backend, replaced together when a snapshot is installed.
 * Hold the holder, never its fields: they change on install.
 */
export interface BackendState {
  backend: Backend;
  kv: KvStore;
  membership: MembershipStore;
  alarms: AlarmStore;
}

/** What installing a snapshot touches besides the backend state. */
export interface SnapshotInstallDeps {
  readonly layout: DataDirLayout;
  /** Updated in place with the reopened state. */
  readonly state: BackendState;
  readonly lessor: Lessor;
  readonly watch: WatchServer;
  readonly v2: V2Server;
  readonly logger: Logger;
  readonly unsafeBackendNoSync?: boolean;
}

/** Received backends in the snap dir: `<16 hex digits>.snap.db`. */
const RECEIVED_DB = /^([0-9a-f]{16})\.snap\.db$/;

async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/** Moves the received backend of snapshot `index` over the backend file, durably (same directory: atomic). */
async function replaceBackendFile(layout: DataDirLayout, index: number): Promise<void> {
  const received = receivedSnapshotPath(layout.snapDir, index);
  try {
    await stat(received);
  } catch {
    throw new Error(`failed to find the backend received with the snapshot at index ${index} (${received})`);
  }
  await rename(received, layout.backendPath);
  await fsyncDir(layout.snapDir);
}

/** Deletes received backends older than `index` (their snapshots will never be installed). */
async function removeStaleReceived(snapDir: string, index: number, logger: Logger): Promise<void> {
  for (const name of await readdir(snapDir)) {
    const m = RECEIVED_DB.exec(name);
    if (m === null || parseInt(m[1]!, 16) >= index) continue;
    await unlink(`${snapDir}/${name}`).catch((err: unknown) => logger.warn('failed to remove a stale received snapshot', { file: name, error: err }));
  }
}

/**
 * Installs the leader's snapshot `snap`, which raft has persisted. The caller holds the backend
 * exclusively (no apply, read or commit runs meanwhile) and has applied every earlier entry.
 * Returns the new consistent index: the received backend's, which covers at least the snapshot.
 */
export async function installSnapshot(d: SnapshotInstallDeps, snap: Snapshot): Promise<number> {
  const index = snap.metadata.index;
  const started = performance.now();
  d.logger.info('applying snapshot', { 'incoming-leader-snapshot-index': index, 'incoming-leader-snapshot-term': snap.metadata.term });
  // Everything written so far goes to the old file, which the rename then discards.
  await d.state.backend.close();
  await replaceBackendFile(d.layout, index);
  const backend = Backend.open({ path: d.layout.backendPath, unsafeNoSync: d.unsafeBackendNoSync });
  const consistentIndex = backend.consistentIndex();
  if (consistentIndex < index) {
    await backend.close();
    throw new Error(`the backend received with the snapshot at index ${index} reflects only index ${consistentIndex}`);
  }
  // The lessor first: the store's restore re-attaches every key to its lease.
  d.lessor.recover(backend);
  const kv = KvStore.open(backend, { lessor: d.lessor });
  d.watch.restore(kv);
  d.state.backend = backend;
  d.state.kv = kv;
  d.state.membership = new MembershipStore(backend);
  d.state.alarms = new AlarmStore(backend);
  d.v2.recover(snap.data);
  await removeStaleReceived(d.layout.snapDir, index, d.logger);
  d.logger.info('applied snapshot', {
    'snapshot-index': index,
    'consistent-index': consistentIndex,
    revision: kv.currentRev,
    took: `${Math.round(performance.now() - started)}ms`,
  });
  return consistentIndex;
}

/**
 * Opens the backend at boot, finishing an install a crash interrupted: when the snapshot
 * recovered from is past the backend's consistent index and its received backend is still in the
 * snap dir, that backend replaces the file first.
 */
export async function openBackendForSnapshot(layout: DataDirLayout, snapshot: Snapshot | undefined, logger: Logger, unsafeNoSync?: boolean): Promise<Backend> {
  const backend = Backend.open({ path: layout.backendPath, unsafeNoSync });
  if (snapshot === undefined) return backend;
  const index = snapshot.metadata.index;
  const ci = backend.consistentIndex();
  if (ci >= index) return backend;
  const exists = await stat(receivedSnapshotPath(layout.snapDir, index)).then(
    () => true,
    () => false,
  );
  if (!exists) return backend;
  logger.info('recovering the backend received with the snapshot', { 'snapshot-index': index, 'consistent-index': ci });
  await backend.close();
  await replaceBackendFile(layout, index);
  return Backend.open({ path: layout.backendPath, unsafeNoSync });
}
