/**
 * etcd's checks of a requested revision against the store's compacted and current revisions
 * (etcd 3.4 mvcc: store.updateCompactRev, storeTxnRead.rangeKeys, store.HashByRev). The caller
 * passes the store's revisions; the functions only compare.
 */
import { type RpcError, rpcError } from '../../api/rpctypes/index.js';

const COMPACTED = rpcError('compacted');
const FUTURE_REV = rpcError('future-rev');

/**
 * A compaction to `revision` is refused when that revision is already compacted (at or below
 * `compactedRevision`: compacting twice to the same revision is an error) or not yet written
 * (above `currentRevision`).
 */
export function checkCompactionRevision(revision: number, compactedRevision: number, currentRevision: number): RpcError | undefined {
  if (revision <= compactedRevision) return COMPACTED;
  if (revision > currentRevision) return FUTURE_REV;
  return undefined;
}

/**
 * A read at `revision` (0 or less: the current one) is refused when the revision is above
 * `currentRevision`, or below `compactedRevision` (the compacted revision itself stays readable).
 */
export function checkRangeRevision(revision: number, compactedRevision: number, currentRevision: number): RpcError | undefined {
  if (revision > currentRevision) return FUTURE_REV;
  if (revision > 0 && revision < compactedRevision) return COMPACTED;
  return undefined;
}

/**
 * A HashKV at `revision` (0: the current one) is refused when the revision is compacted (at or
 * below `compactedRevision`) or above `currentRevision`.
 */
export function checkHashKvRevision(revision: number, compactedRevision: number, currentRevision: number): RpcError | undefined {
  if (revision > 0 && revision <= compactedRevision) return COMPACTED;
  if (revision > 0 && revision > currentRevision) return FUTURE_REV;
  return undefined;
}
