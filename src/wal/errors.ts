import { EtcdError } from '../pkg/errors.js';

/**
 * A WAL failure that is not corruption. Codes: 'wal-exists' (create over an existing WAL),
 * 'wal-file-not-found' (no segment covers the snapshot), 'wal-snapshot-not-found' (no marker for
 * the snapshot to open at), 'wal-snapshot-mismatch' (marker index found with another term),
 * 'wal-metadata-conflict', 'wal-closed', 'wal-not-ready' (save before readAll), 'wal-failed'
 * (an earlier write or fsync failed: the log may have a hole, so nothing more is written).
 */
export class WalError extends EtcdError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'WalError';
  }
}

/**
 * The log is damaged somewhere other than a torn tail: a CRC mismatch, a malformed frame, a broken
 * segment sequence or an entry gap. Recovery stops here rather than silently dropping what
 * follows. Code 'wal-corrupt'.
 */
export class WalCorruptError extends WalError {
  constructor(
    /** Path of the damaged segment file. */
    readonly file: string,
    /** Byte offset in `file` of the frame that failed. */
    readonly offset: number,
    reason: string,
  ) {
    super('wal-corrupt', `wal: corrupt segment ${file} at offset ${offset}: ${reason}`);
    this.name = 'WalCorruptError';
  }
}
