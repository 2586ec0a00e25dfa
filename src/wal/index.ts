/** The write-ahead log: segmented, CRC-chained, group-committed persistence of raft state. */
export { Wal, SEGMENT_BYTES, type WalOptions, type WalReadResult, type WalStats } from './wal.js';
export { WalError, WalCorruptError } from './errors.js';
export type { WalSnapshot } from './record.js';
