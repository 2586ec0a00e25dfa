/** The public surface of mvcc: the store, its transactions, results and plain types. */
export { KvStore, KEY_BUCKET, type KvStoreOptions, type CompactOutcome, type HashKvOutcome } from './kv-store.js';
export { TxnWrite, type PutOptions, type PutOutcome, type DeleteResult, type TxnEndResult } from './txn-write.js';
export { TxnRead } from './txn-read.js';
export { CompactionJob } from './compaction.js';
export type { KeyValue, Event } from './key-value.js';
export type { RangeOptions, RangeOutcome, RangeResult, RevisionFailure, RangeReader } from './range-result.js';
export { rangeRequest, SortOrder, SortTarget, type RangeRequest, type RangeResponse } from './range-options.js';
export type { LeaseAttacher } from './lease-attacher.js';
export { encodeKeyValue, decodeKeyValue } from './kv-codec.js';
export { revToBytes, bytesToRev, type Revision } from './revision.js';
export { type TxnListener } from './kv-store.js';
export {
  WatchableStore,
  DEFAULT_SYNC_BATCH_EVENTS,
  DEFAULT_MAX_WATCHERS_PER_SYNC,
  type WatchableStoreOptions,
} from './watchable-store.js';
export { WatchStream, AUTO_WATCH_ID, DEFAULT_WATCH_STREAM_CAPACITY, type WatchOutcome } from './watch-stream.js';
export {
  PROGRESS_ALL_WATCH_ID,
  eventSize,
  keyValueSize,
  watchResponseSize,
  type WatchEvent,
  type WatchFilter,
  type WatchResponse,
} from './watch-response.js';
