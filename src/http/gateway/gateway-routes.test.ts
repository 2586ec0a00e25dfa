import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGatewayRoutes } from './gateway-routes.js';
import { gatewayErrorBody, httpStatusOfGrpcCode } from './gateway-handler.js';

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

test('gRPC codes map to grpc-gateway HTTP statuses and its error body', () => {
  assert.deepEqual([3, 11, 9, 5, 14, 2, 12, 8].map(httpStatusOfGrpcCode), [400, 400, 400, 404, 503, 500, 501, 429]);
  assert.equal(gatewayErrorBody(3, 'etcdserver: key is not provided'), '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}');
});
