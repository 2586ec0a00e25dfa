import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, isEtcdError } from '../../pkg/errors.js';
import {
  GrpcStatus,
  RPC_ERROR_SPECS,
  RpcError,
  isRpcError,
  rpcError,
  rpcErrorFromStatus,
  rpcErrorSpecByMessage,
  rpcErrorSpecs,
  type RpcErrorSpec,
  specFromStatus,
  toServiceError,
} from './index.js';

test('every catalogue entry has a unique code, a unique text and a unique etcd name', () => {
  const codes = RPC_ERROR_SPECS.map((s) => s.code);
  const texts = RPC_ERROR_SPECS.map((s) => s.message);
  const names = RPC_ERROR_SPECS.map((s) => s.etcdName);
  assert.equal(new Set(codes).size, codes.length);
  assert.equal(new Set(texts).size, texts.length);
  assert.equal(new Set(names).size, names.length);
  for (const s of RPC_ERROR_SPECS) {
    assert.match(s.code, /^[a-z0-9]+(-[a-z0-9]+)*$/, s.code);
    assert.notEqual(s.status, GrpcStatus.OK, s.code);
  }
});

test('the catalogue covers every error of etcd 3.4 rpctypes', () => {
  const etcd34 = [
    'ErrGRPCEmptyKey', 'ErrGRPCKeyNotFound', 'ErrGRPCValueProvided', 'ErrGRPCLeaseProvided', 'ErrGRPCTooManyOps',
    'ErrGRPCDuplicateKey', 'ErrGRPCCompacted', 'ErrGRPCFutureRev', 'ErrGRPCNoSpace', 'ErrGRPCLeaseNotFound',
    'ErrGRPCLeaseExist', 'ErrGRPCLeaseTTLTooLarge', 'ErrGRPCMemberExist', 'ErrGRPCPeerURLExist',
    'ErrGRPCMemberNotEnoughStarted', 'ErrGRPCMemberBadURLs', 'ErrGRPCMemberNotFound', 'ErrGRPCMemberNotLearner',
    'ErrGRPCLearnerNotReady', 'ErrGRPCTooManyLearners', 'ErrGRPCRequestTooLarge', 'ErrGRPCRequestTooManyRequests',
    'ErrGRPCRootUserNotExist', 'ErrGRPCRootRoleNotExist', 'ErrGRPCUserAlreadyExist', 'ErrGRPCUserEmpty',
    'ErrGRPCUserNotFound', 'ErrGRPCRoleAlreadyExist', 'ErrGRPCRoleNotFound', 'ErrGRPCRoleEmpty', 'ErrGRPCAuthFailed',
    'ErrGRPCPermissionDenied', 'ErrGRPCRoleNotGranted', 'ErrGRPCPermissionNotGranted', 'ErrGRPCAuthNotEnabled',
    'ErrGRPCInvalidAuthToken', 'ErrGRPCInvalidAuthMgmt', 'ErrGRPCNoLeader', 'ErrGRPCNotLeader', 'ErrGRPCLeaderChanged',
    'ErrGRPCNotCapable', 'ErrGRPCStopped', 'ErrGRPCTimeout', 'ErrGRPCTimeoutDueToLeaderFail',
    'ErrGRPCTimeoutDueToConnectionLost', 'ErrGRPCUnhealthy', 'ErrGRPCCorrupt', 'ErrGPRCNotSupportedForLearner',
    'ErrGRPCBadLeaderTransferee',
  ];
  const byName = new Map<string, RpcErrorSpec>(RPC_ERROR_SPECS.map((s) => [s.etcdName, s]));
  for (const name of etcd34) {
    assert.equal(byName.get(name)?.since, '3.4', name);
  }
  assert.equal(RPC_ERROR_SPECS.filter((s) => s.etcdName.startsWith('ErrG') && s.since === '3.4').length, etcd34.length);
});

test('statuses and texts match what etcd sends for the errors clients branch on most', () => {
  const expect: Array<[keyof typeof rpcErrorSpecs, GrpcStatus, string]> = [
    ['empty-key', GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['compacted', GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
    ['future-rev', GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
    ['no-space', GrpcStatus.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
    ['lease-not-found', GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found'],
    ['invalid-auth-token', GrpcStatus.UNAUTHENTICATED, 'etcdserver: invalid auth token'],
    ['no-leader', GrpcStatus.UNAVAILABLE, 'etcdserver: no leader'],
    ['not-leader', GrpcStatus.FAILED_PRECONDITION, 'etcdserver: not leader'],
    ['corrupt', GrpcStatus.DATA_LOSS, 'etcdserver: corrupt cluster'],
    ['peer-url-exist', GrpcStatus.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  ];
  for (const [code, status, text] of expect) {
    assert.equal(rpcErrorSpecs[code].status, status, code);
    assert.equal(rpcErrorSpecs[code].message, text, code);
  }
});

test('an RpcError is an EtcdError carrying the catalogue code, text and status', () => {
  const cause = new Error('mvcc: required revision has been compacted');
  const err = rpcError('compacted', cause);
  assert.ok(err instanceof EtcdError);
  assert.ok(isEtcdError(err, 'compacted'));
  assert.ok(isRpcError(err, 'compacted'));
  assert.equal(isRpcError(err, 'future-rev'), false);
  assert.equal(err.message, 'etcdserver: mvcc: required revision has been compacted');
  assert.equal(err.status, GrpcStatus.OUT_OF_RANGE);
  assert.equal(err.cause, cause);
});

test('toServiceError gives grpc-js the numeric status and the exact text', () => {
  assert.deepEqual(toServiceError(rpcError('no-leader')), { code: 14, details: 'etcdserver: no leader', message: 'etcdserver: no leader' });
  assert.deepEqual(toServiceError(rpcErrorSpecs['auth-old-revision']), { code: 2, details: 'auth: revision in header is old', message: 'auth: revision in header is old' });
});

test('a received status is looked up by its text, from details or from a grpc-js message', () => {
  assert.equal(rpcErrorSpecByMessage('etcdserver: too many requests')?.code, 'too-many-requests');
  assert.equal(specFromStatus({ code: 9, details: 'etcdserver: not leader' })?.code, 'not-leader');
  assert.equal(specFromStatus({ message: '9 FAILED_PRECONDITION: etcdserver: not leader' })?.code, 'not-leader');
  assert.equal(specFromStatus({ code: 2, details: 'something else' }), undefined);
  const err = rpcErrorFromStatus({ code: 5, details: 'etcdserver: member not found' });
  assert.ok(err instanceof RpcError);
  assert.equal(err.code, 'member-not-found');
  assert.equal(rpcErrorFromStatus({ code: 14, details: 'connection refused' }), undefined);
});
