import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, grpcServerOptions } from './grpc-server.js';

test('limits follow etcd: receive = max-request-bytes + 512 KiB, send = 2^31-1, streams = 2^32-1', () => {
  const o = grpcServerOptions({ maxRequestBytes: 1.5 * 1024 * 1024 });
  assert.equal(o['grpc.max_receive_message_length'], 2 * 1024 * 1024);
  assert.equal(o['grpc.max_send_message_length'], 2147483647);
  assert.equal(o['grpc.max_concurrent_streams'], 4294967295);
  assert.equal(grpcServerOptions({ maxRequestBytes: 10, maxConcurrentStreams: 7 })['grpc.max_concurrent_streams'], 7);
});

test('keepalive defaults to etcd\'s 2 h interval and 20 s timeout', () => {
  assert.equal(DEFAULT_KEEPALIVE_INTERVAL_MS, 7_200_000);
  assert.equal(DEFAULT_KEEPALIVE_TIMEOUT_MS, 20_000);
  const o = grpcServerOptions({ maxRequestBytes: 10 });
  assert.equal(o['grpc.keepalive_time_ms'], 7_200_000);
  assert.equal(o['grpc.keepalive_timeout_ms'], 20_000);
});

test('configured keepalive applies only when interval and timeout are both set, as in etcd', () => {
  const both = grpcServerOptions({ maxRequestBytes: 10, keepAliveIntervalMs: 5000, keepAliveTimeoutMs: 1000 });
  assert.equal(both['grpc.keepalive_time_ms'], 5000);
  assert.equal(both['grpc.keepalive_timeout_ms'], 1000);
  const one = grpcServerOptions({ maxRequestBytes: 10, keepAliveIntervalMs: 5000, keepAliveTimeoutMs: 0 });
  assert.equal(one['grpc.keepalive_time_ms'], 7_200_000);
  assert.equal(one['grpc.keepalive_timeout_ms'], 20_000);
});
