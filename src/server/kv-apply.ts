/**
 * The KV requests applied to the MVCC store, as etcd 3.4's applierV3backend does them: range,
 * put, delete-range and txn (compares, nested txns, prev_kv, ignore_value/ignore_lease), each
 * answering with a response whose header carries only the revision; the server fills in the rest.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { Compare_CompareResult, Compare_CompareTarget } from '../api/gen/etcdserverpb.js';
import type * as mvccpb from '../api/gen/mvccpb.js';
import { rpcError, type RpcError } from '../api/rpctypes/index.js';
import { rangeRequest, type KeyValue, type KvStore, type RangeReader, type RangeRequest, type TxnWrite } from '../mvcc/index.js';
import { compareBytes } from '../pkg/bytes.js';

/** What the applier asks about leases (the lessor, once there is one). */
export interface LeaseLookup {
  /** Whether lease `id` exists. */
  has(id: bigint): boolean;
}

/** The lease lookup of a member without a lessor: no lease exists. */
export const noLeases: LeaseLookup = { has: () => false };

const EMPTY = new Uint8Array(0);

function header(revision: number): pb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 };
}

/** A KeyValue as the wire type (same fields). */
function wireKv(kv: KeyValue): mvccpb.KeyValue {
  return kv as mvccpb.KeyValue;
}

/** Serves a RangeRequest from `reader` (the store, or a txn's view). */
export function applyRange(reader: RangeReader, r: pb.RangeRequest): { resp: pb.RangeResponse } | { err: RpcError } {
  const rr = rangeRequest(reader, r as unknown as RangeRequest);
  if (!rr.ok) return { err: rpcError(rr.code) };
  return { resp: { header: header(rr.rev), kvs: rr.kvs.map(wireKv), more: rr.more, count: rr.count } };
}

/** Applies a put in `txn`. Preconditions (lease exists, key exists for ignore_*) are checked by the caller. */
function putIn(txn: TxnWrite, p: pb.PutRequest): pb.PutResponse {
  const out = txn.put(p.key, p.value, p.lease, { prevKv: p.prevKv, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease });
  if (!out.ok) throw new Error('put in txn: key vanished after the precondition check');
  const resp: pb.PutResponse = { header: header(out.rev) };
  if (out.prevKv !== undefined) resp.prevKv = wireKv(out.prevKv);
  return resp;
}

function deleteIn(txn: TxnWrite, d: pb.DeleteRangeRequest): pb.DeleteRangeResponse {
  const out = txn.deleteRange(d.key, d.rangeEnd, { prevKv: d.prevKv });
  return { header: header(out.rev), deleted: out.deleted, prevKvs: out.prevKvs === undefined ? [] : out.prevKvs.map(wireKv) };
}

/** Applies a single put as its own transaction. */
export function applyPut(kv: KvStore, leases: LeaseLookup, p: pb.PutRequest): { resp: pb.PutResponse } | { err: RpcError } {
  if (p.lease !== 0n && !leases.has(p.lease)) return { err: rpcError('lease-not-found') };
  const txn = kv.write();
  const out = txn.put(p.key, p.value, p.lease, { prevKv: p.prevKv, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease });
  txn.end();
  if (!out.ok) return { err: rpcError('key-not-found') };
  const resp: pb.PutResponse = { header: header(out.rev) };
  if (out.prevKv !== undefined) resp.prevKv = wireKv(out.prevKv);
  return { resp };
}

/** Applies a delete-range as its own transaction. */
export function applyDeleteRange(kv: KvStore, d: pb.DeleteRangeRequest): pb.DeleteRangeResponse {
  const txn = kv.write();
  const resp = deleteIn(txn, d);
  txn.end();
  return resp;
}

/** Whether a txn only reads (etcd's isTxnReadonly), nested txns included. */
export function isTxnReadonly(r: pb.TxnRequest): boolean {
  for (const ops of [r.success, r.failure]) {
    for (const op of ops) {
      if (op.requestPut !== undefined || op.requestDeleteRange !== undefined) return false;
      if (op.requestTxn !== undefined && !isTxnReadonly(op.requestTxn)) return false;
    }
  }
  return true;
}

/** Whether every range of a read-only txn is serializable (then it needs no read index). */
export function isTxnSerializable(r: pb.TxnRequest): boolean {
  for (const ops of [r.success, r.failure]) {
    for (const op of ops) {
      if (op.requestRange !== undefined && !op.requestRange.serializable) return false;
      if (op.requestTxn !== undefined && !isTxnSerializable(op.requestTxn)) return false;
    }
  }
  return true;
}

function compareNumber(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** etcd's compareKV: the compare's target field of `kv` against the compare's operand. */
function compareKv(c: pb.Compare, kv: KeyValue | undefined): boolean {
  let result: number;
  switch (c.target) {
    case Compare_CompareTarget.VALUE:
      result = compareBytes(kv?.value ?? EMPTY, c.value ?? EMPTY);
      break;
    case Compare_CompareTarget.CREATE:
      result = compareNumber(kv?.createRevision ?? 0, c.createRevision ?? 0);
      break;
    case Compare_CompareTarget.MOD:
      result = compareNumber(kv?.modRevision ?? 0, c.modRevision ?? 0);
      break;
    case Compare_CompareTarget.VERSION:
      result = compareNumber(kv?.version ?? 0, c.version ?? 0);
      break;
    case Compare_CompareTarget.LEASE: {
      const a = kv?.lease ?? 0n;
      const b = c.lease ?? 0n;
      result = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    default:
      return true;
  }
  switch (c.result) {
    case Compare_CompareResult.EQUAL:
      return result === 0;
    case Compare_CompareResult.NOT_EQUAL:
      return result !== 0;
    case Compare_CompareResult.GREATER:
      return result > 0;
    case Compare_CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}

/**
 * etcd's applyCompare: true when every key in the compare's range satisfies it. A missing key
 * compares as a zero key-value, except for VALUE targets, which then fail (no value to compare).
 */
function applyCompare(rv: RangeReader, c: pb.Compare): boolean {
  const rr = rv.range(c.key, c.rangeEnd);
  if (!rr.ok) return false;
  if (rr.kvs.length === 0) return c.target === Compare_CompareTarget.VALUE ? false : compareKv(c, undefined);
  for (const kv of rr.kvs) if (!compareKv(c, kv)) return false;
  return true;
}

/**
 * The outcome of the compares of `rt` and of every nested txn on the branch taken, in pre-order
 * (etcd's compareToPath): all evaluated on the state before the txn writes anything.
 */
export function compareToPath(rv: RangeReader, rt: pb.TxnRequest): boolean[] {
  const path: boolean[] = [];
  const visit = (t: pb.TxnRequest): void => {
    let ok = true;
    for (const c of t.compare) {
      if (!applyCompare(rv, c)) {
        ok = false;
        break;
      }
    }
    path.push(ok);
    for (const op of ok ? t.success : t.failure) if (op.requestTxn !== undefined) visit(op.requestTxn);
  };
  visit(rt);
  return path;
}

/** Runs `check` on every non-txn op on the path taken; the first error wins. */
function checkRequests(rt: pb.TxnRequest, path: readonly boolean[], check: (op: pb.RequestOp) => RpcError | undefined): RpcError | undefined {
  let pos = 0;
  const visit = (t: pb.TxnRequest): RpcError | undefined => {
    const taken = path[pos++]!;
    for (const op of taken ? t.success : t.failure) {
      const err = op.requestTxn !== undefined ? visit(op.requestTxn) : check(op);
      if (err !== undefined) return err;
    }
    return undefined;
  };
  return visit(rt);
}

/** etcd's checkPut: the lease of each put exists, and the key exists for ignore_value/ignore_lease. */
function checkPut(rv: RangeReader, leases: LeaseLookup, op: pb.RequestOp): RpcError | undefined {
  const p = op.requestPut;
  if (p === undefined) return undefined;
  if (p.lease !== 0n && !leases.has(p.lease)) return rpcError('lease-not-found');
  if (p.ignoreValue || p.ignoreLease) {
    const rr = rv.range(p.key, undefined);
    if (!rr.ok || rr.kvs.length === 0) return rpcError('key-not-found');
  }
  return undefined;
}

/** etcd's checkRange: a range's revision must be neither in the future nor compacted. */
function checkRange(kv: KvStore, op: pb.RequestOp): RpcError | undefined {
  const r = op.requestRange;
  if (r === undefined || r.revision === 0) return undefined;
  if (r.revision > kv.currentRev) return rpcError('future-rev');
  if (r.revision < kv.compactRev) return rpcError('compacted');
  return undefined;
}

/** Applies the ops of the branch taken, recursing into nested txns (etcd's applyTxn). */
function applyOps(reader: RangeReader, writer: TxnWrite | undefined, rt: pb.TxnRequest, path: readonly boolean[], cursor: { pos: number }): pb.TxnResponse {
  const succeeded = path[cursor.pos++]!;
  const ops = succeeded ? rt.success : rt.failure;
  const responses: pb.ResponseOp[] = new Array<pb.ResponseOp>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.requestRange !== undefined) {
      const r = applyRange(reader, op.requestRange);
      // checkRange ran before anything was written, and a txn cannot compact: a range cannot fail.
      if ('err' in r) throw new Error(`range in txn failed after its check: ${r.err.message}`);
      responses[i] = { responseRange: r.resp };
    } else if (op.requestPut !== undefined) {
      responses[i] = { responsePut: putIn(writer!, op.requestPut) };
    } else if (op.requestDeleteRange !== undefined) {
      responses[i] = { responseDeleteRange: deleteIn(writer!, op.requestDeleteRange) };
    } else if (op.requestTxn !== undefined) {
      responses[i] = { responseTxn: applyOps(reader, writer, op.requestTxn, path, cursor) };
    } else {
      responses[i] = {};
    }
  }
  // Nested txn responses keep an empty header, as etcd leaves them.
  return { header: header(0), succeeded, responses };
}

/**
 * Applies a txn: evaluates every compare first, checks the ops on the path taken, then runs them
 * in one write transaction (or, for a read-only txn, against the store). The header revision is
 * the store's revision after it.
 */
export function applyTxn(kv: KvStore, leases: LeaseLookup, rt: pb.TxnRequest): { resp: pb.TxnResponse } | { err: RpcError } {
  const readonly = isTxnReadonly(rt);
  const path = compareToPath(kv, rt);
  if (!readonly) {
    const err = checkRequests(rt, path, (op) => checkPut(kv, leases, op));
    if (err !== undefined) return { err };
  }
  const err = checkRequests(rt, path, (op) => checkRange(kv, op));
  if (err !== undefined) return { err };
  if (readonly) {
    const resp = applyOps(kv, undefined, rt, path, { pos: 0 });
    resp.header = header(kv.currentRev);
    return { resp };
  }
  const txn = kv.write();
  let resp: pb.TxnResponse;
  try {
    resp = applyOps(txn, txn, rt, path, { pos: 0 });
  } finally {
    txn.end();
  }
  resp.header = header(kv.currentRev);
  return { resp };
}
