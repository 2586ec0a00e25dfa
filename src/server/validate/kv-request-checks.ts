/**
 * etcd's checks of single KV requests, made before a request is proposed or served
 * (etcd 3.4 etcdserver/api/v3rpc/key.go). They return the error to answer with, or undefined
 * when the request may proceed: on this hot path a refusal is a value, never a throw.
 */
import type { DeleteRangeRequest, PutRequest, RangeRequest } from '../../api/gen/etcdserverpb.js';
import { type RpcError, rpcError } from '../../api/rpctypes/index.js';

// One shared instance per outcome: refusals carry no request-specific data, so nothing is
// allocated on a refused request either.
const EMPTY_KEY = rpcError('empty-key');
const VALUE_PROVIDED = rpcError('value-provided');
const LEASE_PROVIDED = rpcError('lease-provided');

// etcd 3.4 has no such check: an unknown sort order is ignored and an unknown sort target makes
// the member crash (nil sorter); refusing both, as 3.5 does, keeps the member up.
const INVALID_SORT_OPTION = rpcError('invalid-sort-option');

// Highest valid enum numbers of RangeRequest.SortOrder (DESCEND) and SortTarget (VALUE).
const MAX_SORT_ORDER = 2;
const MAX_SORT_TARGET = 4;

/** A Range is refused with an empty key, or a sort order or target etcd does not define. */
export function checkRangeRequest(req: RangeRequest): RpcError | undefined {
  if (req.key.length === 0) return EMPTY_KEY;
  // `>>> 0` maps negative enum values (int32 on the wire) above the maximum too.
  if (req.sortOrder >>> 0 > MAX_SORT_ORDER || req.sortTarget >>> 0 > MAX_SORT_TARGET) return INVALID_SORT_OPTION;
  return undefined;
}

/**
 * A Put is refused with an empty key, with a value while `ignore_value` is set, and with a
 * lease while `ignore_lease` is set.
 */
export function checkPutRequest(req: PutRequest): RpcError | undefined {
  if (req.key.length === 0) return EMPTY_KEY;
  if (req.ignoreValue && req.value.length !== 0) return VALUE_PROVIDED;
  if (req.ignoreLease && req.lease !== 0n) return LEASE_PROVIDED;
  return undefined;
}

/** A DeleteRange is refused with an empty key. */
export function checkDeleteRequest(req: DeleteRangeRequest): RpcError | undefined {
  return req.key.length === 0 ? EMPTY_KEY : undefined;
}
