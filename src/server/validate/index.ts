/**
 * Request validation shared by every API edge: etcd's checks, as pure functions returning the
 * catalogued error to answer with, or undefined. The server core calls them from each API method.
 */
export { checkDeleteRequest, checkPutRequest, checkRangeRequest } from './kv-request-checks.js';
export { checkTxnRequest, txnOpCount } from './txn-request-checks.js';
export { hasWriteConflict } from './txn-write-conflicts.js';
export { checkCompactionRevision, checkHashKvRevision, checkRangeRevision } from './revision-checks.js';
