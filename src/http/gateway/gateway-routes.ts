/**
 * The table of v3 JSON gateway routes: which gRPC method each etcd 3.4 gateway path calls and how
 * the member serves it. Paths and message types come from the generated service table; serving
 * another unary service is one more entry in {@link gatewayMethods}. The streaming routes
 * (watch, lease keepalive) are served by gateway-watch.ts and gateway-keepalive.ts.
 */
import { allServices } from '../../api/gen/services.js';
import type { LeaseRevokeRequest } from '../../api/gen/etcdserverpb.js';
import type { RequestMetadata } from '../../server/auth-api.js';
import type { EtcdServerApi } from '../../server/server-api.js';

/** Calls one unary method on the member with a decoded request and the call's metadata. */
type Invoke = (api: EtcdServerApi, req: never, md: RequestMetadata) => Promise<object> | undefined;

/** One routed method: its request/response type names and how to call it. */
export interface GatewayRoute {
  /** Full gRPC method path, e.g. '/etcdserverpb.KV/Range' (for logs). */
  readonly method: string;
  readonly requestType: string;
  readonly responseType: string;
  /** The request's protobuf codec: grpc-go's size limit applies to the encoded request. */
  readonly requestCodec: { encode(m: never): Uint8Array };
  /** Resolves with the response; undefined when the member does not serve this service. */
  readonly invoke: (api: EtcdServerApi, req: unknown, md: RequestMetadata) => Promise<object> | undefined;
}

/**
 * The methods the gateway serves, by `Service.Method`. Lease calls answer only on members that
 * have a lease service.
 */
const gatewayMethods: Readonly<Record<string, Invoke>> = {
  'KV.Range': (api, req, md) => api.range(req, md),
  'KV.Put': (api, req, md) => api.put(req, md),
  'KV.DeleteRange': (api, req, md) => api.deleteRange(req, md),
  'KV.Txn': (api, req, md) => api.txn(req, md),
  'KV.Compact': (api, req) => api.compact(req),
  'Lease.LeaseGrant': (api, req) => api.lease?.leaseGrant(req),
  'Lease.LeaseRevoke': (api, req: LeaseRevokeRequest, md) => {
    api.auth?.checkLeaseRevoke(md, req.ID);
    return api.lease?.leaseRevoke(req);
  },
  'Lease.LeaseTimeToLive': (api, req) => api.lease?.leaseTimeToLive(req),
  'Lease.LeaseLeases': (api, req) => api.lease?.leaseLeases(req),
  'Cluster.MemberAdd': (api, req) => api.memberAdd(req),
  'Cluster.MemberRemove': (api, req) => api.memberRemove(req),
  'Cluster.MemberUpdate': (api, req) => api.memberUpdate(req),
  'Cluster.MemberList': (api, req) => api.memberList(req),
  'Cluster.MemberPromote': (api, req) => api.memberPromote(req),
  'Maintenance.Alarm': (api, req) => api.alarm(req),
  'Maintenance.Status': (api, req) => api.status(req),
  // These need the root role while auth is enabled (etcd's authMaintenanceServer).
  'Maintenance.Defragment': (api, req, md) => {
    api.auth?.checkAdmin(md);
    return api.defragment(req);
  },
  'Maintenance.Hash': (api, req, md) => {
    api.auth?.checkAdmin(md);
    return api.hash(req);
  },
  'Maintenance.HashKV': (api, req, md) => {
    api.auth?.checkAdmin(md);
    return api.hashKV(req);
  },
};

/**
 * The Auth hook. etcd's gateway serves every Auth method at `/v3/auth/<x>` (authenticate,
 * enable, disable, user/add|get|list|delete|changepw|grant|revoke, role/add|get|list|delete|
 * grant|revoke; the generated table holds the exact paths). Each calls the member's `auth`
 * service by the gRPC method's lowerCamel name (`authenticate`, `authEnable`, `userAdd`,
 * `userChangePassword`, `roleGrantPermission`, ...) with the decoded request and the call's
 * metadata (the token from the `Authorization` header), and its RpcError is answered as any
 * other. A member without `auth` answers Unimplemented (501).
 */
export interface GatewayAuthService {
  readonly [method: string]: ((req: never, md: RequestMetadata) => Promise<object>) | undefined;
}

/** The member's Auth service, when it has one (see {@link GatewayAuthService}). */
function authServiceOf(api: EtcdServerApi): GatewayAuthService | undefined {
  return (api as EtcdServerApi & { readonly auth?: GatewayAuthService }).auth;
}

/** The invoke of Auth method `name` (lowerCamel), through the hook. */
function authInvoke(name: string): GatewayRoute['invoke'] {
  return (api, req, md) => {
    const auth = authServiceOf(api);
    const method = auth?.[name];
    return method === undefined ? undefined : (method as (r: unknown, m: RequestMetadata) => Promise<object>).call(auth, req, md);
  };
}

/**
 * Builds the route map `POST /v3/...` → route. Services register in etcd's order and the first
 * registration of a path wins, as in grpc-gateway's mux: etcd 3.4 declares both Hash and HashKV
 * at `/v3/maintenance/hash`, and Hash answers there.
 */
export function buildGatewayRoutes(): Map<string, GatewayRoute> {
  const routes = new Map<string, GatewayRoute>();
  for (const service of allServices) {
    const short = service.name.slice(service.name.lastIndexOf('.') + 1);
    for (const m of Object.values(service.methods) as { name: string; originalName: string; path: string; requestStream: boolean; responseStream: boolean; requestType: { typeName: string; encode(m: never): Uint8Array }; responseType: { typeName: string }; gateway: readonly string[] }[]) {
      const invoke = short === 'Auth' ? authInvoke(m.originalName) : (gatewayMethods[`${short}.${m.name}`] as GatewayRoute['invoke'] | undefined);
      if (invoke === undefined || m.requestStream || m.responseStream) continue;
      for (const route of m.gateway) {
        if (routes.has(route)) continue;
        routes.set(route, { method: m.path, requestType: m.requestType.typeName, responseType: m.responseType.typeName, requestCodec: m.requestType, invoke });
      }
    }
  }
  return routes;
}
