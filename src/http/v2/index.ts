/** etcd 3.4's v2 HTTP API (keys, members, machines, stats) over a member. */
export { createV2Handler, type V2HandlerOptions } from './v2-handler.js';
export { v2SourceOf, type V2Source, type V2Member } from './v2-source.js';
export { parseKeyRequest, KEYS_PREFIX, STORE_KEYS_PREFIX, type KeyRequestOutcome } from './key-request.js';
