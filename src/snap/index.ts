/** Raft snapshot files: durable save, newest-valid load with broken-file quarantine, purge. */
export { Snapshotter, snapName, encodeSnapFile, decodeSnapFile, type SnapshotRef } from './snapshotter.js';
export { SnapError } from './errors.js';
