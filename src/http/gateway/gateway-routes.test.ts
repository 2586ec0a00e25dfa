import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGatewayRoutes } from './gateway-routes.js';
import { gatewayErrorBody, httpStatusOfGrpcCode } from './grpc-http-status.js';

test('routes cover KV, Cluster, Maintenance and Lease paths with their message types', () => {
  const routes = buildGatewayRoutes();
  assert.equal(routes.get('POST /v3/kv/range')?.requestType, 'etcdserverpb.RangeRequest');
  assert.equal(routes.get('POST /v3/cluster/member/promote')?.responseType, 'etcdserverpb.MemberPromoteResponse');
  assert.equal(routes.get('POST /v3/kv/lease/revoke')?.method, '/etcdserverpb.Lease/LeaseRevoke');
  assert.equal(routes.get('POST /v3/lease/keepalive'), undefined, 'streams are not routed');
  assert.equal(routes.get('POST /v3/watch'), undefined);
});

test('Hash answers /v3/maintenance/hash, which etcd 3.4 also declares for HashKV', () => {
  assert.equal(buildGatewayRoutes().get('POST /v3/maintenance/hash')?.method, '/etcdserverpb.Maintenance/Hash');
});

test('gRPC codes map to grpc-gateway v1 HTTP statuses (FailedPrecondition is 412) and its error body', () => {
  assert.deepEqual([3, 11, 9, 5, 14, 2, 12, 8].map(httpStatusOfGrpcCode), [400, 400, 412, 404, 503, 500, 501, 429]);
  assert.equal(gatewayErrorBody(3, 'etcdserver: key is not provided'), '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}');
});

test('every Auth method of etcd 3.4 is routed at /v3/auth/<x> through the auth hook', () => {
  const routes = buildGatewayRoutes();
  const paths = ['authenticate', 'enable', 'disable', 'user/add', 'user/get', 'user/list', 'user/delete', 'user/changepw', 'user/grant', 'user/revoke', 'role/add', 'role/get', 'role/list', 'role/delete', 'role/grant', 'role/revoke'];
  for (const p of paths) assert.match(routes.get(`POST /v3/auth/${p}`)?.method ?? '', /^\/etcdserverpb\.Auth\//, p);
});

test('an Auth route calls the member auth service by the lowerCamel method name, with the metadata; none: undefined', async () => {
  const route = buildGatewayRoutes().get('POST /v3/auth/user/changepw')!;
  const calls: unknown[] = [];
  const md = { get: (): readonly unknown[] => ['tok'] };
  const auth = { userChangePassword: (req: unknown, m: unknown): Promise<object> => (calls.push(req, m), Promise.resolve({ ok: 1 })) };
  assert.deepEqual(await route.invoke({ auth } as never, { name: 'u' }, md), { ok: 1 });
  assert.deepEqual(calls, [{ name: 'u' }, md]);
  assert.equal(route.invoke({} as never, {}, md), undefined);
});
