/**
 * etcd's v3electionpb.Election service (v3election in etcd), as the concurrency Election recipe
 * builds it: a campaigner puts `name/<lease hex>` under its lease and leads once every key under
 * `name/` created before its own is gone. The leader key carries the leader's value (Proclaim
 * rewrites it while the key's create revision is still the one campaigned with); Resign deletes
 * it; Leader reads the oldest key; Observe streams the leader's key-value on each change.
 */
import type { ServerWritableStream, UntypedServiceImplementation, handleServerStreamingCall } from '@grpc/grpc-js';
import { grpcServices } from '../api/codec.js';
import * as pb from '../api/gen/etcdserverpb.js';
import * as epb from '../api/gen/v3electionpb.js';
import type * as mvccpb from '../api/gen/mvccpb.js';
import { RpcError } from '../api/rpctypes/index.js';
import type { Logger } from '../pkg/logger.js';
import { RecipeError, type RecipeServer, callSignal, concatKey, createRevisionIs, firstCreatedRequest, leaseHex, recipeErrorStatus, recipeUnaryHandler, sessionLease } from './recipe-call.js';
import { UndecodableRequest, edgeServiceDefinition } from './request-decoding.js';
import { WaitCancelled, WatchCursor, prefixRangeEnd, waitDeletes } from './wait-deletes.js';
import { bytesEqual } from '../pkg/bytes.js';

/** etcd's ErrElectionNotLeader text. */
export const ERR_NOT_LEADER = 'election: not leader';
/** etcd's ErrElectionNoLeader text. */
export const ERR_NO_LEADER = 'election: no leader';
/** etcd's v3election ErrMissingLeaderKey text. */
export const ERR_MISSING_LEADER_KEY = '"leader" field must be provided';

/** Rewrites the leader key's value if `leader` still leads; else fails with "election: not leader". */
async function proclaimAs(server: RecipeServer, leader: epb.LeaderKey, lease: bigint, value: Uint8Array): Promise<pb.ResponseHeader | undefined> {
  const resp = await server.kv.txn(
    pb.createTxnRequest({
      compare: [createRevisionIs(leader.key, leader.rev)],
      success: [pb.createRequestOp({ requestPut: pb.createPutRequest({ key: leader.key, value, lease }) })],
    }),
  );
  if (!resp.succeeded) throw new RecipeError(ERR_NOT_LEADER);
  return resp.header;
}

/** Deletes the leader key if `leader` still leads; no error when it does not. */
async function resignAs(server: RecipeServer, leader: epb.LeaderKey): Promise<pb.ResponseHeader | undefined> {
  const resp = await server.kv.txn(
    pb.createTxnRequest({
      compare: [createRevisionIs(leader.key, leader.rev)],
      success: [pb.createRequestOp({ requestDeleteRange: pb.createDeleteRangeRequest({ key: leader.key }) })],
    }),
  );
  return resp.header;
}

/** Campaigns for `req.name` under `req.lease` and resolves once elected. */
export async function campaign(server: RecipeServer, req: epb.CampaignRequest, signal: AbortSignal): Promise<epb.CampaignResponse> {
  const lease = await sessionLease(server.lease, req.lease);
  const prefix = concatKey(req.name, '/');
  const key = concatKey(prefix, leaseHex(lease));
  const resp = await server.kv.txn(
    pb.createTxnRequest({
      compare: [createRevisionIs(key, 0)],
      success: [pb.createRequestOp({ requestPut: pb.createPutRequest({ key, value: req.value, lease }) })],
      failure: [pb.createRequestOp({ requestRange: pb.createRangeRequest({ key }) })],
    }),
  );
  const leader = epb.createLeaderKey({ name: req.name, key, rev: resp.header!.revision, lease });
  if (!resp.succeeded) {
    // Campaigning again under the same lease resumes the earlier candidacy with the new value.
    const kv = resp.responses[0]!.responseRange!.kvs[0]!;
    leader.rev = kv.createRevision;
    if (!bytesEqual(kv.value, req.value)) {
      try {
        await proclaimAs(server, leader, lease, req.value);
      } catch (err) {
        await resignAs(server, leader).catch(() => undefined);
        throw err;
      }
    }
  }
  try {
    await waitDeletes(server.kv, server.watch, prefix, leader.rev - 1, signal);
  } catch (err) {
    // A candidate that gave up withdraws; one that failed otherwise leaves its key (as etcd does).
    if (signal.aborted) await resignAs(server, leader).catch(() => undefined);
    throw err;
  }
  return epb.createCampaignResponse({ header: resp.header, leader });
}

/** Rewrites the leader's value; "election: not leader" unless `req.leader` still leads. */
export async function proclaim(server: RecipeServer, req: epb.ProclaimRequest): Promise<epb.ProclaimResponse> {
  if (req.leader === undefined) throw new RecipeError(ERR_MISSING_LEADER_KEY);
  const lease = await sessionLease(server.lease, req.leader.lease);
  return epb.createProclaimResponse({ header: await proclaimAs(server, req.leader, lease, req.value) });
}

/** Gives up leadership: deletes the leader key if `req.leader` still leads. */
export async function resign(server: RecipeServer, req: epb.ResignRequest): Promise<epb.ResignResponse> {
  if (req.leader === undefined) throw new RecipeError(ERR_MISSING_LEADER_KEY);
  // etcd opens a session under the leader's lease first, granting one when it is 0.
  await sessionLease(server.lease, req.leader.lease);
  return epb.createResignResponse({ header: await resignAs(server, req.leader) });
}

/** The current leader's key-value; "election: no leader" when nobody leads. */
export async function leader(server: RecipeServer, req: epb.LeaderRequest): Promise<epb.LeaderResponse> {
  const resp = await server.kv.range(firstCreatedRequest(concatKey(req.name, '/')));
  const kv = resp.kvs[0];
  if (kv === undefined) throw new RecipeError(ERR_NO_LEADER);
  return epb.createLeaderResponse({ header: resp.header, kv });
}

/**
 * Sends the leader of `name` to `send` now and on every change until `signal` aborts
 * (concurrency's observe): the leader's key-value, then each new value of that key until it is
 * deleted, then the next leader (waiting for the first put under the prefix while nobody leads).
 * Returns when the watch ends (a compacted revision), as etcd's observer closes then.
 */
export async function observe(server: RecipeServer, name: Uint8Array, send: (resp: epb.LeaderResponse) => void, signal: AbortSignal): Promise<void> {
  const prefix = concatKey(name, '/');
  const first = firstCreatedRequest(prefix);
  while (!signal.aborted) {
    const resp = await server.kv.range(first);
    let kv: mvccpb.KeyValue | undefined = resp.kvs[0];
    let header = resp.header;
    if (kv === undefined) {
      // Nobody leads: the first put under the prefix is the next leader.
      const cursor = new WatchCursor(server.watch, prefix, prefixRangeEnd(prefix), resp.header!.revision);
      try {
        while (kv === undefined) {
          const wr = await cursor.next(signal);
          if (wr.compactRevision !== 0) return;
          const put = wr.events.find((ev) => ev.type === 'put');
          if (put !== undefined) {
            kv = put.kv;
            header = server.watch.watchHeader(kv.modRevision);
          }
        }
      } finally {
        cursor.close();
      }
    }
    send(epb.createLeaderResponse({ header, kv }));
    const cursor = new WatchCursor(server.watch, kv.key, undefined, header!.revision + 1);
    try {
      let deleted = false;
      while (!deleted) {
        const wr = await cursor.next(signal);
        if (wr.compactRevision !== 0) return;
        for (const ev of wr.events) {
          if (ev.type === 'delete') {
            deleted = true;
            break;
          }
          send(epb.createLeaderResponse({ header: server.watch.watchHeader(wr.revision), kv: ev.kv }));
        }
      }
    } finally {
      cursor.close();
    }
  }
}

/** The Observe handler: streams {@link observe} until the client goes away. */
function observeHandler(server: RecipeServer, path: string, logger: Logger): handleServerStreamingCall<epb.LeaderRequest | UndecodableRequest, epb.LeaderResponse> {
  return (call: ServerWritableStream<epb.LeaderRequest | UndecodableRequest, epb.LeaderResponse>) => {
    const req = call.request;
    if (req instanceof UndecodableRequest) {
      call.emit('error', req.status);
      return;
    }
    const { signal, dispose } = callSignal(call);
    // etcd's Observe does not wait for a slow reader; grpc-js buffers what is written.
    observe(server, req.name, (resp) => call.write(resp), signal).then(
      () => {
        dispose();
        if (!call.cancelled) call.end();
      },
      (err: unknown) => {
        dispose();
        if (err instanceof WaitCancelled || call.cancelled) return;
        // etcd's observer closes its channel on a failed read, which ends the stream with OK.
        if (err instanceof RpcError) {
          if (logger.enabled('debug')) logger.debug('observe ended', { method: path, error: err.message });
          call.end();
          return;
        }
        call.emit('error', recipeErrorStatus(err, path, logger));
      },
    );
  };
}

const electionDefinition = edgeServiceDefinition(grpcServices.Election);

/** The v3electionpb.Election service over `server`. */
export function electionService(server: RecipeServer, logger: Logger): { name: string; definition: typeof electionDefinition; implementation: UntypedServiceImplementation } {
  const d = electionDefinition;
  return {
    name: 'v3electionpb.Election',
    definition: d,
    implementation: {
      Campaign: recipeUnaryHandler(d.Campaign.path, (req: epb.CampaignRequest, signal) => campaign(server, req, signal), logger),
      Proclaim: recipeUnaryHandler(d.Proclaim.path, (req: epb.ProclaimRequest) => proclaim(server, req), logger),
      Leader: recipeUnaryHandler(d.Leader.path, (req: epb.LeaderRequest) => leader(server, req), logger),
      Observe: observeHandler(server, d.Observe.path, logger),
      Resign: recipeUnaryHandler(d.Resign.path, (req: epb.ResignRequest) => resign(server, req), logger),
    },
  };
}
