/**
 * etcd's v3lockpb.Lock service (v3lock in etcd): a distributed mutex per name, as the
 * concurrency Mutex recipe builds it. Each locker puts `name/<lease hex>` under its lease; the
 * key with the lowest create revision under `name/` holds the lock, and every other locker waits
 * for the keys created before its own to go. Unlock deletes the key; a revoked or expired lease
 * deletes it too, which hands the lock on.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcServices } from '../api/codec.js';
import * as pb from '../api/gen/etcdserverpb.js';
import * as lockpb from '../api/gen/v3lockpb.js';
import type { Logger } from '../pkg/logger.js';
import { concatKey, createRevisionIs, firstCreatedRequest, leaseHex, type RecipeServer, recipeUnaryHandler, sessionLease } from './recipe-call.js';
import { edgeServiceDefinition } from './request-decoding.js';
import { waitDeletes } from './wait-deletes.js';

/** Acquires the lock `req.name` under `req.lease`, waiting while another key holds it. */
export async function lock(server: RecipeServer, req: lockpb.LockRequest, signal: AbortSignal): Promise<lockpb.LockResponse> {
  const lease = await sessionLease(server.lease, req.lease);
  const prefix = concatKey(req.name, '/');
  const myKey = concatKey(prefix, leaseHex(lease));
  const getOwner = pb.createRequestOp({ requestRange: firstCreatedRequest(prefix) });
  // One round trip: join the queue (or find our key from an earlier Lock under the same lease,
  // which then re-acquires it) and learn the current holder.
  const resp = await server.kv.txn(
    pb.createTxnRequest({
      compare: [createRevisionIs(myKey, 0)],
      success: [pb.createRequestOp({ requestPut: pb.createPutRequest({ key: myKey, lease }) }), getOwner],
      failure: [pb.createRequestOp({ requestRange: pb.createRangeRequest({ key: myKey }) }), getOwner],
    }),
  );
  const myRev = resp.succeeded ? resp.header!.revision : resp.responses[0]!.responseRange!.kvs[0]!.createRevision;
  const owner = resp.responses[1]!.responseRange!.kvs[0];
  if (owner === undefined || owner.createRevision === myRev) return lockpb.createLockResponse({ header: resp.header, key: myKey });
  try {
    const header = await waitDeletes(server.kv, server.watch, prefix, myRev - 1, signal);
    return lockpb.createLockResponse({ header, key: myKey });
  } catch (err) {
    // Leave the queue, so a waiter that gave up does not block those behind it.
    await server.kv.deleteRange(pb.createDeleteRangeRequest({ key: myKey })).catch(() => undefined);
    throw err;
  }
}

/** Releases a lock by deleting its key (any key: etcd does not check it is a lock's). */
export async function unlock(server: RecipeServer, req: lockpb.UnlockRequest): Promise<lockpb.UnlockResponse> {
  const resp = await server.kv.deleteRange(pb.createDeleteRangeRequest({ key: req.key }));
  return lockpb.createUnlockResponse({ header: resp.header });
}

const lockDefinition = edgeServiceDefinition(grpcServices.Lock);

/** The v3lockpb.Lock service over `server`. */
export function lockService(server: RecipeServer, logger: Logger): { name: string; definition: typeof lockDefinition; implementation: UntypedServiceImplementation } {
  return {
    name: 'v3lockpb.Lock',
    definition: lockDefinition,
    implementation: {
      Lock: recipeUnaryHandler(lockDefinition.Lock.path, (req: lockpb.LockRequest, signal) => lock(server, req, signal), logger),
      Unlock: recipeUnaryHandler(lockDefinition.Unlock.path, (req: lockpb.UnlockRequest) => unlock(server, req), logger),
    },
  };
}
