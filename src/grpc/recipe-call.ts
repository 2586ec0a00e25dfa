/**
 * How the recipe services (v3lockpb.Lock, v3electionpb.Election) run a call. etcd serves them
 * through an in-process client, so every failure reaches the client as the client's error value:
 * grpc-go, finding no gRPC status on it, answers UNKNOWN with the error's text, catalogued errors
 * ("etcdserver: requested lease not found") included. Calls that wait (Lock, Campaign) end when
 * the client goes away. Also the helpers both services share (keys, the first-created read, leases).
 */
import type { ServerUnaryCall, handleUnaryCall } from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import { GrpcStatus, type GrpcStatusError, RpcError } from '../api/rpctypes/index.js';
import type { Logger } from '../pkg/logger.js';
import type { LeaseApi } from '../server/lease-api.js';
import type { KvApi } from '../server/server-api.js';
import type { WatchApi } from '../server/watch-api.js';
import { callErrorStatus } from './call-status.js';
import { UndecodableRequest } from './request-decoding.js';
import { WaitCancelled, prefixRangeEnd } from './wait-deletes.js';

/** An expected refusal of a recipe call, answered UNKNOWN with its text (e.g. "election: not leader"). */
export class RecipeError extends Error {}

/** The status a failed recipe call answers with; only errors nobody expects are logged as errors. */
export function recipeErrorStatus(err: unknown, path: string, logger: Logger): GrpcStatusError {
  if (err instanceof WaitCancelled) return { code: GrpcStatus.CANCELLED, details: err.message, message: err.message };
  if (err instanceof RecipeError || err instanceof RpcError) {
    if (logger.enabled('debug')) logger.debug('request refused', { method: path, error: err.message });
    return { code: GrpcStatus.UNKNOWN, details: err.message, message: err.message };
  }
  return callErrorStatus(err, path, logger);
}

/** A call that says when its client went away: grpc-js's calls and our edge's both emit 'cancelled'. */
interface CancellableCall {
  readonly cancelled: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

/** A signal that aborts once `call`'s client goes away, and its disposer (call it when the call is answered). */
export function callSignal(call: CancellableCall): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (call.cancelled) {
    abort();
    return { signal: controller.signal, dispose: () => undefined };
  }
  call.on('cancelled', abort);
  return { signal: controller.signal, dispose: () => call.off('cancelled', abort) };
}

/** A unary handler running `method` with a signal of the client going away. */
export function recipeUnaryHandler<Req, Res>(path: string, method: (req: Req, signal: AbortSignal) => Promise<Res>, logger: Logger): handleUnaryCall<Req | UndecodableRequest, Res> {
  return (call: ServerUnaryCall<Req | UndecodableRequest, Res>, callback): void => {
    const req = call.request;
    if (req instanceof UndecodableRequest) {
      callback(req.status);
      return;
    }
    const { signal, dispose } = callSignal(call as unknown as CancellableCall);
    method(req, signal).then(
      (res) => {
        dispose();
        callback(null, res);
      },
      (err: unknown) => {
        dispose();
        callback(recipeErrorStatus(err, path, logger));
      },
    );
  };
}

/** Lowercase hex of a lease ID, as the recipes name their keys (Go's %x). */
export function leaseHex(id: bigint): string {
  return id.toString(16);
}

/** TTL of the lease a recipe call grants when given none (concurrency's defaultSessionTTL), in seconds. */
export const DEFAULT_SESSION_TTL_SECONDS = 60;

/**
 * The lease a recipe call works under: `lease` itself, or when it is 0 a new lease of
 * {@link DEFAULT_SESSION_TTL_SECONDS} that nobody keeps alive (etcd's server opens a session with
 * that lease and orphans it at once).
 */
export async function sessionLease(leases: LeaseApi, lease: bigint): Promise<bigint> {
  if (lease !== 0n) return lease;
  const granted = await leases.leaseGrant(pb.createLeaseGrantRequest({ TTL: DEFAULT_SESSION_TTL_SECONDS }));
  return granted.ID;
}

/** What the recipe services need of a member: its KV, watches and leases. */
export interface RecipeServer {
  readonly kv: KvApi;
  readonly watch: WatchApi;
  readonly lease: LeaseApi;
}

const enc = new TextEncoder();

/** `prefix` followed by `suffix`'s UTF-8 bytes. */
export function concatKey(prefix: Uint8Array, suffix: string): Uint8Array {
  const tail = enc.encode(suffix);
  const key = new Uint8Array(prefix.length + tail.length);
  key.set(prefix);
  key.set(tail, prefix.length);
  return key;
}

/** A comparison that holds while `key`'s create revision is `rev` (0: the key does not exist). */
export function createRevisionIs(key: Uint8Array, rev: number): pb.Compare {
  return pb.createCompare({ key, target: pb.Compare_CompareTarget.CREATE, result: pb.Compare_CompareResult.EQUAL, createRevision: rev });
}

/** A read of the key under `prefix` with the lowest create revision (clientv3's WithFirstCreate). */
export function firstCreatedRequest(prefix: Uint8Array): pb.RangeRequest {
  return pb.createRangeRequest({
    key: prefix,
    rangeEnd: prefixRangeEnd(prefix),
    limit: 1,
    sortOrder: pb.RangeRequest_SortOrder.ASCEND,
    sortTarget: pb.RangeRequest_SortTarget.CREATE,
  });
}
