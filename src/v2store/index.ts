/** The v2 tree store (etcd's v2store): tree, events, watchers, TTLs, snapshots, and the v2 error table. */
export { V2Store, STORE_VERSION, DEFAULT_HISTORY_CAPACITY, MIN_EXPIRE_TIME_MS, type TtlOptions, type V2Outcome, type V2StoreOptions } from './store.js';
export { eventIndex, isCreated, compareKeys, type V2Action, type V2Event, type NodeExtern } from './event.js';
export { encodeEvent, encodeClientEvent, encodeNodeExtern } from './event-json.js';
export { V2Watcher, WATCHER_QUEUE_CAPACITY, type WatchListener } from './watcher.js';
export type { WatchOutcome } from './watcher-hub.js';
export { V2_STAT_FIELDS, type V2StatsSnapshot } from './stats.js';
export {
  V2ErrorCode,
  V2_ERROR_SPECS,
  newV2Error,
  v2ErrorSpec,
  v2ErrorStatus,
  v2ErrorText,
  encodeV2Error,
  type V2Error,
  type V2ErrorCodeValue,
  type V2ErrorSpec,
} from './v2-errors.js';
export { goJsonString } from './go-json.js';
export { formatRfc3339Nano, parseRfc3339 } from './rfc3339.js';
export { cleanPath } from './node-path.js';
