import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpcGoResourceExhaustedText } from './grpc-go-status-text.js';

test('grpc-js\'s receive-limit text becomes grpc-go\'s, numbers kept', () => {
  assert.equal(grpcGoResourceExhaustedText('Received message larger than max (3145728 vs 2097152)'), 'grpc: received message larger than max (3145728 vs. 2097152)');
});

test('grpc-js\'s send-limit text becomes grpc-go\'s', () => {
  assert.equal(grpcGoResourceExhaustedText('Sent message larger than max (10 vs. 5)'), 'grpc: trying to send message larger than max (10 vs. 5)');
});

test('other resource-exhausted texts, such as etcd\'s own, are left alone', () => {
  assert.equal(grpcGoResourceExhaustedText('etcdserver: too many requests'), undefined);
  assert.equal(grpcGoResourceExhaustedText('Received message that decompresses to a size larger than 5'), undefined);
});
