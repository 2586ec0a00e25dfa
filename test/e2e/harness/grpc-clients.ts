/**
 * Typed clients of etcd's gRPC services for end-to-end tests, built from the generated service
 * tables with grpc-js's generic constructors (the same wire bytes any etcd client sends).
 */
import * as grpc from '@grpc/grpc-js';
import type * as pb from '../../../src/api/gen/etcdserverpb.js';
import { grpcServiceNames, grpcServices } from '../../../src/api/codec.js';

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

/** The Lease calls the tests use. */
export type LeaseClient = grpc.Client & {
  LeaseGrant(req: pb.LeaseGrantRequest, cb: Callback<pb.LeaseGrantResponse>): void;
  LeaseKeepAlive(): grpc.ClientDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>;
};
/** The KV calls the tests use. */
export type KvClient = grpc.Client & { Put(req: pb.PutRequest, cb: Callback<pb.PutResponse>): void };
/** The Watch stream. */
export type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse> };

const creds = grpc.credentials.createInsecure();
const LeaseCtor = grpc.makeGenericClientConstructor(grpcServices.Lease, grpcServiceNames.Lease);
const KvCtor = grpc.makeGenericClientConstructor(grpcServices.KV, grpcServiceNames.KV);
const WatchCtor = grpc.makeGenericClientConstructor(grpcServices.Watch, grpcServiceNames.Watch);

/** A Lease client of `address` (host:port), without TLS. */
export function leaseClient(address: string): LeaseClient {
  return new LeaseCtor(address, creds) as unknown as LeaseClient;
}

/** A KV client of `address`, without TLS. */
export function kvClient(address: string): KvClient {
  return new KvCtor(address, creds) as unknown as KvClient;
}

/** A Watch client of `address`, without TLS. */
export function watchClient(address: string): WatchClient {
  return new WatchCtor(address, creds) as unknown as WatchClient;
}
