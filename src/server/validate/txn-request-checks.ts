/**
 * etcd's checks of a Txn request (etcd 3.4 checkTxnRequest and checkIntervals in
 * etcdserver/api/v3rpc/key.go), in etcd's order so the first failing rule decides the error.
 */
import type { RequestOp, TxnRequest } from '../../api/gen/etcdserverpb.js';
import { type RpcError, rpcError } from '../../api/rpctypes/index.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest } from './kv-request-checks.js';
import { hasWriteConflict } from './txn-write-conflicts.js';

const EMPTY_KEY = rpcError('empty-key');
const KEY_NOT_FOUND = rpcError('key-not-found');
const TOO_MANY_OPS = rpcError('too-many-ops');
const DUPLICATE_KEY = rpcError('duplicate-key');

/**
 * The operation count etcd holds against --max-txn-ops: the longest of the compare list and the
 * two branches (not their sum).
 */
export function txnOpCount(req: TxnRequest): number {
  return Math.max(req.compare.length, req.success.length, req.failure.length);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): RpcError | undefined {
  if (op.requestRange !== undefined) return checkRangeRequest(op.requestRange);
  if (op.requestPut !== undefined) return checkPutRequest(op.requestPut);
  if (op.requestDeleteRange !== undefined) return checkDeleteRequest(op.requestDeleteRange);
  if (op.requestTxn !== undefined) return checkTxnOps(op.requestTxn, maxTxnOps);
  return KEY_NOT_FOUND; // an op with no request set: etcd's answer for it
}

function checkTxnOps(req: TxnRequest, maxTxnOps: number): RpcError | undefined {
  const opc = txnOpCount(req);
  if (opc > maxTxnOps) return TOO_MANY_OPS;
  for (const c of req.compare) if (c.key.length === 0) return EMPTY_KEY;
  // A nested txn may use only what its parent left of the limit.
  const nested = maxTxnOps - opc;
  for (const op of req.success) {
    const err = checkRequestOp(op, nested);
    if (err !== undefined) return err;
  }
  for (const op of req.failure) {
    const err = checkRequestOp(op, nested);
    if (err !== undefined) return err;
  }
  return undefined;
}

/**
 * A Txn is refused when it has more than `maxTxnOps` compares or operations in a branch (a nested
 * txn counts against what its parent left), a compare or operation with an empty key, an
 * operation with no request, a refused nested request, or a key written twice in one branch.
 * The write-conflict search runs last, on requests that passed every other check.
 */
export function checkTxnRequest(req: TxnRequest, maxTxnOps: number): RpcError | undefined {
  const err = checkTxnOps(req, maxTxnOps);
  if (err !== undefined) return err;
  if (hasWriteConflict(req.success) || hasWriteConflict(req.failure)) return DUPLICATE_KEY;
  return undefined;
}
