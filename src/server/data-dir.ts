/**
 * The data directory layout, as etcd's: `<data-dir>/member/wal` (unless --wal-dir), snapshot
 * files in `<data-dir>/member/snap`, and the backend beside them as the lmdb file
 * `<data-dir>/member/snap/db` (lmdb keeps its lock file at `db-lock`).
 */
import { join } from 'node:path';
import { walDirOf, type ServerConfig } from './config/server-config.js';

/** Where one member keeps its state. */
export interface DataDirLayout {
  readonly memberDir: string;
  readonly walDir: string;
  readonly snapDir: string;
  /** The lmdb database file (not a directory). */
  readonly backendPath: string;
}

/** The layout of `config`'s data dir. */
export function dataDirLayout(config: Pick<ServerConfig, 'dataDir' | 'walDir'>): DataDirLayout {
  const memberDir = join(config.dataDir, 'member');
  const snapDir = join(memberDir, 'snap');
  return { memberDir, walDir: walDirOf(config as ServerConfig), snapDir, backendPath: join(snapDir, 'db') };
}
