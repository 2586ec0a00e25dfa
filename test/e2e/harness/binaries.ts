/**
 * Where the executables under test live, and whether they are there. Real etcd and etcdctl come
 * from Debian (`etcd-server`, `etcd-client`; `.ci/run` installs them); etcd-ts is the compiled
 * entry point under dist/. Tests use these to skip, with a message, when something is missing.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { sourceDirOf } from '../../../src/pkg/datadriven.js';

/** The real etcd server binary (override with E2E_ETCD_BIN). */
export const ETCD_BIN = process.env['E2E_ETCD_BIN'] ?? '/usr/bin/etcd';

/** The real etcdctl binary (override with E2E_ETCDCTL_BIN). */
export const ETCDCTL_BIN = process.env['E2E_ETCDCTL_BIN'] ?? '/usr/bin/etcdctl';

/** The project root (the folder holding package.json), whether running from dist/ or sources. */
export function projectRoot(): string {
  return resolve(sourceDirOf(import.meta.url), '..', '..', '..');
}

/** The compiled etcd-ts server entry point, run as `node <this> --name ...`. */
export function etcdTsEntry(): string {
  return resolve(projectRoot(), 'dist', 'src', 'bin', 'etcd-ts.js');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the real etcdctl can be run. */
export function hasEtcdctl(): boolean {
  return isExecutable(ETCDCTL_BIN);
}

/** Whether both the real etcd server and etcdctl can be run. */
export function hasRealEtcd(): boolean {
  return isExecutable(ETCD_BIN) && hasEtcdctl();
}

/** Whether the etcd-ts entry point has been built (`npm run build`). */
export function hasEtcdTsDist(): boolean {
  return existsSync(etcdTsEntry());
}

/**
 * Why tests of real etcd must skip here, or undefined when etcd and etcdctl are installed.
 * In CI both are installed, so this is the exception.
 */
export function realEtcdSkipReason(): string | undefined {
  if (hasRealEtcd()) return undefined;
  return `real etcd/etcdctl not installed at ${ETCD_BIN} and ${ETCDCTL_BIN} (apt-get install etcd-server etcd-client)`;
}
