/**
 * The etcd gRPC services this edge serves, each as its grpc-js definition and an implementation
 * calling the server. To serve another service, add its entry here; a
 * service absent from this list answers UNIMPLEMENTED.
 */
import type { Metadata, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcServices } from '../api/codec.js';
import type { Logger } from '../pkg/logger.js';
import type { EtcdServerApi } from '../server/server-api.js';
import { authService } from './auth-service.js';
import { leaseKeepAliveHandler } from './lease-service.js';
import { electionService } from './election-service.js';
import { healthService } from './health-service.js';
import { lockService } from './lock-service.js';
import type { RecipeServer } from './recipe-call.js';
import { edgeServiceDefinition } from './request-decoding.js';
import { serverStreamingHandler } from './server-streaming-handler.js';
import { unaryHandler } from './unary-handler.js';
import { watchHandler, type WatchServiceOptions } from './watch-service.js';

/** One service to register: its definition and handlers keyed as the definition's methods. */
export interface EdgeService {
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

const kv = edgeServiceDefinition(grpcServices.KV);
const maintenance = edgeServiceDefinition(grpcServices.Maintenance);
const cluster = edgeServiceDefinition(grpcServices.Cluster);
const watch = edgeServiceDefinition(grpcServices.Watch);
const lease = edgeServiceDefinition(grpcServices.Lease);

/** The services served, bound to `server`. */
export function edgeServices(server: EtcdServerApi, logger: Logger, watchOptions?: WatchServiceOptions): EdgeService[] {
  const services: EdgeService[] = [];
  if (server.watch !== undefined) {
    services.push({
      name: 'etcdserverpb.Watch',
      definition: watch,
      implementation: { Watch: watchHandler(server.watch, { ...(watchOptions ?? { maxRequestBytes: server.limits.maxRequestBytes }), auth: server.auth }, logger) },
    });
  }
  const leaseApi = server.lease;
  if (leaseApi !== undefined) {
    services.push({
      name: 'etcdserverpb.Lease',
      definition: lease,
      implementation: {
        LeaseGrant: unaryHandler(lease.LeaseGrant.path, (r) => leaseApi.leaseGrant(r), logger),
        LeaseRevoke: unaryHandler(
          lease.LeaseRevoke.path,
          (r, md) => {
            server.auth?.checkLeaseRevoke(md, r.ID);
            return leaseApi.leaseRevoke(r);
          },
          logger,
        ),
        LeaseKeepAlive: leaseKeepAliveHandler(leaseApi, lease.LeaseKeepAlive.path, logger),
        LeaseTimeToLive: unaryHandler(lease.LeaseTimeToLive.path, (r) => leaseApi.leaseTimeToLive(r), logger),
        LeaseLeases: unaryHandler(lease.LeaseLeases.path, (r) => leaseApi.leaseLeases(r), logger),
      },
    });
  }
  if (server.auth !== undefined) services.push(authService(server.auth, logger));
  if (server.watch !== undefined && leaseApi !== undefined) {
    // Lock and Election run over the member's own KV, watches and leases, as etcd's do over an in-process client.
    const recipes: RecipeServer = { kv: server, watch: server.watch, lease: leaseApi };
    services.push(lockService(recipes, logger), electionService(recipes, logger));
  }
  services.push(healthService());
  // etcd's authMaintenanceServer: these need the root role while authentication is enabled.
  const asAdmin = <T>(md: Metadata, call: () => T): T => {
    server.auth?.checkAdmin(md);
    return call();
  };
  return [
    ...services,
    {
      name: 'etcdserverpb.KV',
      definition: kv,
      implementation: {
        Range: unaryHandler(kv.Range.path, (r, md) => server.range(r, md), logger),
        Put: unaryHandler(kv.Put.path, (r, md, call) => server.put(r, md, call), logger),
        DeleteRange: unaryHandler(kv.DeleteRange.path, (r, md, call) => server.deleteRange(r, md, call), logger),
        Txn: unaryHandler(kv.Txn.path, (r, md, call) => server.txn(r, md, call), logger),
        Compact: unaryHandler(kv.Compact.path, (r) => server.compact(r), logger),
      },
    },
    {
      name: 'etcdserverpb.Maintenance',
      definition: maintenance,
      implementation: {
        Alarm: unaryHandler(maintenance.Alarm.path, (r) => server.alarm(r), logger),
        Status: unaryHandler(maintenance.Status.path, (r) => server.status(r), logger),
        Defragment: unaryHandler(maintenance.Defragment.path, (r, md) => asAdmin(md, () => server.defragment(r)), logger),
        Hash: unaryHandler(maintenance.Hash.path, (r, md) => asAdmin(md, () => server.hash(r)), logger),
        HashKV: unaryHandler(maintenance.HashKV.path, (r, md) => asAdmin(md, () => server.hashKV(r)), logger),
        Snapshot: serverStreamingHandler(maintenance.Snapshot.path, (r, md) => asAdmin(md, () => server.snapshot(r)), logger),
        MoveLeader: unaryHandler(maintenance.MoveLeader.path, (r) => server.moveLeader(r), logger),
      },
    },
    {
      name: 'etcdserverpb.Cluster',
      definition: cluster,
      implementation: {
        MemberAdd: unaryHandler(cluster.MemberAdd.path, (r) => server.memberAdd(r), logger),
        MemberRemove: unaryHandler(cluster.MemberRemove.path, (r) => server.memberRemove(r), logger),
        MemberUpdate: unaryHandler(cluster.MemberUpdate.path, (r) => server.memberUpdate(r), logger),
        MemberList: unaryHandler(cluster.MemberList.path, (r) => server.memberList(r), logger),
        MemberPromote: unaryHandler(cluster.MemberPromote.path, (r) => server.memberPromote(r), logger),
      },
    },
  ];
}
