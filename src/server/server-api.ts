/**
 * What the API edges (src/grpc, src/http) may ask of a running member. The edges translate wire
 * calls into these methods and nothing else; every method validates its request (etcd's checks,
 * so all edges share them) and rejects with an `RpcError` from src/api/rpctypes, which the edge
 * turns into etcd's gRPC status and text. Responses carry a filled `header`.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import type { AuthApi, RequestMetadata } from './auth-api.js';
import type { LeaseApi } from './lease-api.js';
import type { WatchApi } from './watch-api.js';

/** The client's side of a call: `cancelled` once it gave up (reset the stream, passed its deadline). */
export interface CallState {
  readonly cancelled: boolean;
}

/**
 * The KV service: reads are linearizable unless `serializable`; writes go through raft. `md`
 * carries the call's auth token, checked only while authentication is enabled. A write whose
 * `call` is cancelled before it reaches raft (it waits while no leader is known) is never
 * proposed, as etcd drops a proposal whose request context ended.
 */
export interface KvApi {
  range(req: pb.RangeRequest, md?: RequestMetadata): Promise<pb.RangeResponse>;
  put(req: pb.PutRequest, md?: RequestMetadata, call?: CallState): Promise<pb.PutResponse>;
  deleteRange(req: pb.DeleteRangeRequest, md?: RequestMetadata, call?: CallState): Promise<pb.DeleteRangeResponse>;
  txn(req: pb.TxnRequest, md?: RequestMetadata, call?: CallState): Promise<pb.TxnResponse>;
  compact(req: pb.CompactionRequest): Promise<pb.CompactionResponse>;
}

/** The Maintenance service. */
export interface MaintenanceApi {
  status(req: pb.StatusRequest): Promise<pb.StatusResponse>;
  alarm(req: pb.AlarmRequest): Promise<pb.AlarmResponse>;
  hash(req: pb.HashRequest): Promise<pb.HashResponse>;
  hashKV(req: pb.HashKVRequest): Promise<pb.HashKVResponse>;
  defragment(req: pb.DefragmentRequest): Promise<pb.DefragmentResponse>;
  /** The backend as a stream of chunks, as etcd's Maintenance.Snapshot sends it. */
  snapshot(req: pb.SnapshotRequest): AsyncIterable<pb.SnapshotResponse>;
  moveLeader(req: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse>;
}

/** The Cluster service. */
export interface ClusterApi {
  memberList(req: pb.MemberListRequest): Promise<pb.MemberListResponse>;
  memberAdd(req: pb.MemberAddRequest): Promise<pb.MemberAddResponse>;
  memberRemove(req: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse>;
  memberUpdate(req: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse>;
  memberPromote(req: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse>;
}

/** Health as etcd's /health reports it: a leader is known and no alarm is raised. */
export interface HealthApi {
  health(): Promise<{ health: boolean; reason: string }>;
}

/**
 * Room etcd adds to --max-request-bytes for the gRPC receive limit (grpcOverheadBytes in etcd's
 * v3rpc), so that a request just over the limit reaches the server and gets etcd's own
 * "request is too large" error rather than a transport error. Every edge uses the same bound.
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** Limits the edges need before a request reaches the server (e.g. gRPC max receive size). */
export interface ServerLimits {
  /** --max-request-bytes: the largest request etcd accepts, in bytes. */
  readonly maxRequestBytes: number;
  /** --max-txn-ops. */
  readonly maxTxnOps: number;
}

/** Everything a member serves to clients. */
export interface EtcdServerApi extends KvApi, MaintenanceApi, ClusterApi, HealthApi {
  readonly limits: ServerLimits;
  /** The member's ID and cluster ID, for headers the edge fills itself (e.g. HTTP). */
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** The Lease service; absent: the edge answers UNIMPLEMENTED. */
  readonly lease?: LeaseApi;
  /** The Watch service; absent: the edge answers UNIMPLEMENTED. */
  readonly watch?: WatchApi;
  /** The Auth service; absent: the edge answers UNIMPLEMENTED. */
  readonly auth?: AuthApi;
}
