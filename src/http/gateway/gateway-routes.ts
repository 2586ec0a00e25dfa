/**
 * The table of v3 JSON gateway routes: which gRPC method each etcd 3.4 gateway path calls and how
 * the member serves it. Paths and message types come from the generated service table; serving
 * another service (Watch, Auth) is one more entry in {@link gatewayMethods}.
 */
import { allServices } from '../../api/gen/services.js';
import type { EtcdServerApi } from '../../server/server-api.js';

/** Calls one unary method on the member with a decoded request. */
type Invoke = (api: EtcdServerApi, req: never) => Promise<object> | undefined;

/** One routed method: its request/response type names and how to call it. */
export interface GatewayRoute {
  /** Full gRPC method path, e.g. '/etcdserverpb.KV/Range' (for logs). */
  readonly method: string;
  readonly requestType: string;
  readonly responseType: string;
  /** Resolves with the response; undefined when the member does not serve this service. */
  readonly invoke: (api: EtcdServerApi, req: unknown) => Promise<object> | undefined;
}

/**
 * The methods the gateway serves, by `Service.Method`. Lease calls answer only on members that
 * have a lease service.
 */
const gatewayMethods: Readonly<Record<string, Invoke>> = {
  'KV.Range': (api, req) => api.range(req),
  'KV.Put': (api, req) => api.put(req),
  'KV.DeleteRange': (api, req) => api.deleteRange(req),
  'KV.Txn': (api, req) => api.txn(req),
  'KV.Compact': (api, req) => api.compact(req),
  'Lease.LeaseGrant': (api, req) => api.lease?.leaseGrant(req),
  'Lease.LeaseRevoke': (api, req) => api.lease?.leaseRevoke(req),
  'Lease.LeaseTimeToLive': (api, req) => api.lease?.leaseTimeToLive(req),
  'Lease.LeaseLeases': (api, req) => api.lease?.leaseLeases(req),
  'Cluster.MemberAdd': (api, req) => api.memberAdd(req),
  'Cluster.MemberRemove': (api, req) => api.memberRemove(req),
  'Cluster.MemberUpdate': (api, req) => api.memberUpdate(req),
  'Cluster.MemberList': (api, req) => api.memberList(req),
  'Cluster.MemberPromote': (api, req) => api.memberPromote(req),
  'Maintenance.Alarm': (api, req) => api.alarm(req),
  'Maintenance.Status': (api, req) => api.status(req),
  'Maintenance.Defragment': (api, req) => api.defragment(req),
  'Maintenance.Hash': (api, req) => api.hash(req),
  'Maintenance.HashKV': (api, req) => api.hashKV(req),
};

/**
 * Builds the route map `POST /v3/...` → route. Services register in etcd's order and the first
 * registration of a path wins, as in grpc-gateway's mux: etcd 3.4 declares both Hash and HashKV
 * at `/v3/maintenance/hash`, and Hash answers there.
 */
export function buildGatewayRoutes(): Map<string, GatewayRoute> {
  const routes = new Map<string, GatewayRoute>();
  for (const service of allServices) {
    const short = service.name.slice(service.name.lastIndexOf('.') + 1);
    for (const m of Object.values(service.methods) as { name: string; path: string; requestStream: boolean; responseStream: boolean; requestType: { typeName: string }; responseType: { typeName: string }; gateway: readonly string[] }[]) {
      const invoke = gatewayMethods[`${short}.${m.name}`] as GatewayRoute['invoke'] | undefined;
      if (invoke === undefined || m.requestStream || m.responseStream) continue;
      for (const route of m.gateway) {
        if (routes.has(route)) continue;
        routes.set(route, { method: m.path, requestType: m.requestType.typeName, responseType: m.responseType.typeName, invoke });
      }
    }
  }
  return routes;
}
