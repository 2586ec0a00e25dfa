import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { sourceDirOf } from '../pkg/datadriven.js';
import * as etcdserverpb from './gen/etcdserverpb.js';
import * as mvccpb from './gen/mvccpb.js';
import * as v3electionpb from './gen/v3electionpb.js';
import { allServices, KVService, WatchService } from './gen/services.js';
import { grpcServices, grpcServiceNames, toBuffer } from './codec.js';

// Decoded bytes fields are Buffers (views into the input), so build expected values as Buffers too.
const enc = (s: string): Uint8Array => Buffer.from(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MAX_U64 = 0xffffffffffffffffn;
const MAX_I64 = 0x7fffffffffffffffn;

test('PutRequest encodes to the protobuf bytes worked out by hand', () => {
  // key=1 (0x0a, len 3 "foo"), value=2 (0x12, len 3 "bar"), lease=3 (0x18, varint 1), prev_kv=4 (0x20, 1).
  const bytes = etcdserverpb.PutRequest.encode(etcdserverpb.createPutRequest({ key: enc('foo'), value: enc('bar'), lease: 1n, prevKv: true }));
  assert.equal(hex(bytes), '0a03666f6f' + '1203626172' + '1801' + '2001');
});

test('zero values are left off the wire in proto3 messages', () => {
  assert.equal(etcdserverpb.RangeRequest.encode(etcdserverpb.createRangeRequest()).length, 0);
  assert.equal(hex(etcdserverpb.RangeRequest.encode(etcdserverpb.createRangeRequest({ key: enc('a'), rangeEnd: new Uint8Array([0]), limit: 10 }))), '0a0161' + '120100' + '180a');
});

test('64-bit IDs use all ten varint bytes and come back exact', () => {
  // uint64 2^64-1: nine 0xff continuation bytes then 0x01. Member.ID is field 1 (tag 0x08).
  const member = etcdserverpb.createMember({ ID: MAX_U64, name: 'n1' });
  const bytes = etcdserverpb.Member.encode(member);
  assert.equal(hex(bytes), '08' + 'ff'.repeat(9) + '01' + '12026e31');
  assert.equal(etcdserverpb.Member.decode(bytes).ID, MAX_U64);

  // int64 2^63-1 needs nine bytes: eight 0xff then 0x7f. LeaseGrantResponse.ID is field 2 (tag 0x10).
  const grant = etcdserverpb.LeaseGrantResponse.encode(etcdserverpb.createLeaseGrantResponse({ ID: MAX_I64, TTL: 60 }));
  assert.equal(hex(grant), '10' + 'ff'.repeat(8) + '7f' + '183c');
  assert.equal(etcdserverpb.LeaseGrantResponse.decode(grant).ID, MAX_I64);
});

test('IDs above 2^53 survive a round trip inside nested and repeated messages', () => {
  const ids = [MAX_U64, 0x8000000000000001n, (1n << 53n) + 1n, 1n, 0n];
  const resp = etcdserverpb.createMemberListResponse({
    header: etcdserverpb.createResponseHeader({ clusterId: 0xfedcba9876543210n, memberId: MAX_U64, revision: 2 ** 53 - 1, raftTerm: 7 }),
    members: ids.map((ID) => etcdserverpb.createMember({ ID, peerURLs: ['http://a:2380', 'http://b:2380'], isLearner: ID === 1n })),
  });
  const back = etcdserverpb.MemberListResponse.decode(etcdserverpb.MemberListResponse.encode(resp));
  assert.deepEqual(back, resp);
  assert.equal(back.header?.clusterId, 0xfedcba9876543210n);
  assert.deepEqual(back.members.map((m) => m.ID), ids);
});

test('negative int64 values (a failed watch has watch_id -1) round-trip as ten-byte varints', () => {
  const bytes = etcdserverpb.WatchResponse.encode(etcdserverpb.createWatchResponse({ watchId: -1, created: true, canceled: true, cancelReason: 'x' }));
  assert.equal(hex(bytes.subarray(0, 11)), '10' + 'ff'.repeat(9) + '01');
  assert.equal(etcdserverpb.WatchResponse.decode(bytes).watchId, -1);
  const lease = etcdserverpb.PutRequest.decode(etcdserverpb.PutRequest.encode(etcdserverpb.createPutRequest({ key: enc('k'), lease: -2n })));
  assert.equal(lease.lease, -2n);
});

test('a revision beyond 2^53 decodes to the nearest number instead of throwing', () => {
  const big = etcdserverpb.RangeRequest.decode(etcdserverpb.RangeRequest.encode(etcdserverpb.createRangeRequest({ key: enc('a'), revision: 2 ** 62 })));
  assert.equal(big.revision, 2 ** 62);
});

test('a oneof member set to zero is still sent, and the last member on the wire wins', () => {
  const cmp = etcdserverpb.createCompare({ key: enc('k'), target: etcdserverpb.Compare_CompareTarget.VERSION, version: 0, rangeEnd: enc('l') });
  // version=4 (0x20, 0) must be present although zero; range_end=64 has the two-byte tag 0x82 0x04.
  assert.equal(hex(etcdserverpb.Compare.encode(cmp)), '1a016b' + '2000' + '8204016c');
  const back = etcdserverpb.Compare.decode(etcdserverpb.Compare.encode(cmp));
  assert.equal(back.version, 0);
  assert.equal(back.value, undefined);

  const twoMembers = Buffer.concat([Buffer.from('2005', 'hex'), Buffer.from('3a0178', 'hex')]);
  const last = etcdserverpb.Compare.decode(twoMembers);
  assert.equal(last.version, undefined);
  assert.equal(Buffer.from(last.value!).toString(), 'x');
});

test('txn requests nest ops, including a txn inside a txn', () => {
  const inner = etcdserverpb.createTxnRequest({ success: [etcdserverpb.createRequestOp({ requestPut: etcdserverpb.createPutRequest({ key: enc('b'), value: enc('2') }) })] });
  const txn = etcdserverpb.createTxnRequest({
    compare: [etcdserverpb.createCompare({ key: enc('a'), result: etcdserverpb.Compare_CompareResult.GREATER, target: etcdserverpb.Compare_CompareTarget.LEASE, lease: MAX_I64 })],
    success: [etcdserverpb.createRequestOp({ requestRange: etcdserverpb.createRangeRequest({ key: enc('a') }) }), etcdserverpb.createRequestOp({ requestTxn: inner })],
    failure: [etcdserverpb.createRequestOp({ requestDeleteRange: etcdserverpb.createDeleteRangeRequest({ key: enc('a'), prevKv: true }) })],
  });
  const back = etcdserverpb.TxnRequest.decode(etcdserverpb.TxnRequest.encode(txn));
  assert.deepEqual(back, txn);
  assert.equal(back.compare[0].lease, MAX_I64);
  assert.equal(Buffer.from(back.success[1].requestTxn!.success[0].requestPut!.key).toString(), 'b');
});

test('repeated enums are written packed and read both packed and unpacked', () => {
  const { NOPUT, NODELETE } = etcdserverpb.WatchCreateRequest_FilterType;
  const req = etcdserverpb.createWatchCreateRequest({ key: enc('k'), filters: [NODELETE, NOPUT, NODELETE] });
  assert.equal(hex(etcdserverpb.WatchCreateRequest.encode(req)), '0a016b' + '2a03010001');
  const unpacked = Buffer.from('0a016b' + '2801' + '2800', 'hex');
  assert.deepEqual(etcdserverpb.WatchCreateRequest.decode(unpacked).filters, [NODELETE, NOPUT]);
});

test('unknown fields are skipped', () => {
  // field 99 varint, field 100 length-delimited, then key=1.
  const bytes = Buffer.from('98060a' + 'a20602ffff' + '0a016b', 'hex');
  const m = etcdserverpb.PutRequest.decode(bytes);
  assert.equal(Buffer.from(m.key).toString(), 'k');
});

test('truncated input throws instead of returning a partial message', () => {
  const full = etcdserverpb.Member.encode(etcdserverpb.createMember({ ID: MAX_U64 }));
  assert.throws(() => etcdserverpb.Member.decode(full.subarray(0, 5)), RangeError);
  assert.throws(() => etcdserverpb.PutRequest.decode(Buffer.from('0a05ab', 'hex')), RangeError);
});

test('InternalRaftRequest carries its header at field 100 and auth requests at 1000+', () => {
  const req = etcdserverpb.createInternalRaftRequest({
    header: etcdserverpb.createRequestHeader({ ID: 0x1234567890abcdefn, username: 'root', authRevision: 3 }),
    authEnable: etcdserverpb.createAuthEnableRequest(),
  });
  const bytes = etcdserverpb.InternalRaftRequest.encode(req);
  // Fields go out in number order: header=100 -> tag (100<<3)|2 = 802 = varint a2 06, then
  // auth_enable=1000 -> tag 8002 = varint c2 3e with an empty body.
  assert.equal(hex(bytes.subarray(0, 2)), 'a206');
  assert.equal(hex(bytes.subarray(bytes.length - 3)), 'c23e00');
  assert.deepEqual(etcdserverpb.InternalRaftRequest.decode(bytes), req);
});

test('proto2 v2 Request keeps presence: an unset PrevExist differs from false', () => {
  const set = etcdserverpb.Request.decode(etcdserverpb.Request.encode({ ID: 5n, Method: 'PUT', PrevExist: false, Expiration: 1700000000123456789n }));
  assert.equal(set.PrevExist, false);
  assert.equal(set.Expiration, 1700000000123456789n);
  const unset = etcdserverpb.Request.decode(etcdserverpb.Request.encode({ ID: 5n, Method: 'PUT' }));
  assert.equal(unset.PrevExist, undefined);
  // proto2 writes a set field even when zero: Dir=5 false -> 28 00.
  assert.equal(hex(etcdserverpb.Request.encode({ Dir: false })), '2800');
});

test('generated codecs agree byte for byte with protobufjs reflection over the same .proto files', () => {
  const protoDir = join(sourceDirOf(import.meta.url), '..', '..', 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync(['etcdserverpb/rpc.proto', 'v3electionpb/v3election.proto'], { keepCase: false });
  const kv = mvccpb.createKeyValue({ key: enc('/registry/pods/a'), createRevision: 100, modRevision: 2 ** 40, version: 3, value: enc('v'.repeat(300)), lease: MAX_I64 });
  const resp = etcdserverpb.createRangeResponse({
    header: etcdserverpb.createResponseHeader({ clusterId: MAX_U64, memberId: 0x8e9e05c52164694dn, revision: 12345, raftTerm: 9 }),
    kvs: [kv, mvccpb.createKeyValue({ key: enc('b') })],
    more: true,
    count: 2,
  });
  // Reflection takes 64-bit values as decimal strings.
  const reflected = root.lookupType('etcdserverpb.RangeResponse').encode({
    header: { clusterId: MAX_U64.toString(), memberId: 0x8e9e05c52164694dn.toString(), revision: 12345, raftTerm: 9 },
    kvs: [{ key: kv.key, createRevision: 100, modRevision: (2 ** 40).toString(), version: 3, value: kv.value, lease: MAX_I64.toString() }, { key: enc('b') }],
    more: true,
    count: 2,
  }).finish();
  assert.equal(hex(etcdserverpb.RangeResponse.encode(resp)), hex(reflected));

  const leader = v3electionpb.createLeaderKey({ name: enc('e'), key: enc('e/1'), rev: 77, lease: 0x694d7c2e1fd3a8b1n });
  const reflectedLeader = root.lookupType('v3electionpb.LeaderKey').encode({ name: enc('e'), key: enc('e/1'), rev: 77, lease: 0x694d7c2e1fd3a8b1n.toString() }).finish();
  assert.equal(hex(v3electionpb.LeaderKey.encode(leader)), hex(reflectedLeader));
});

test('the service table names etcd full method paths, streaming shapes and gateway routes', () => {
  assert.equal(KVService.methods.Range.path, '/etcdserverpb.KV/Range');
  assert.deepEqual(KVService.methods.Range.gateway, ['POST /v3/kv/range']);
  assert.equal(WatchService.methods.Watch.requestStream, true);
  assert.equal(WatchService.methods.Watch.responseStream, true);
  const paths = allServices.flatMap((s) => Object.values(s.methods).map((m) => m.path));
  assert.equal(new Set(paths).size, paths.length);
  assert.ok(paths.includes('/etcdserverpb.Maintenance/Snapshot'));
  assert.ok(paths.includes('/v3lockpb.Lock/Lock'));
  assert.ok(paths.includes('/v3electionpb.Election/Observe'));
  assert.equal(grpcServices.Maintenance.Snapshot.responseStream, true);
  assert.equal(grpcServices.Maintenance.Snapshot.requestStream, false);
  assert.equal(grpcServiceNames.Lease, 'etcdserverpb.Lease');
});

test('grpc service definitions serialize to Buffers and back', () => {
  const def = grpcServices.KV.Put;
  const buf = def.requestSerialize(etcdserverpb.createPutRequest({ key: enc('k'), lease: MAX_I64 }));
  assert.ok(Buffer.isBuffer(buf));
  assert.equal(def.requestDeserialize(buf).lease, MAX_I64);
  const view = new Uint8Array([1, 2, 3]).subarray(1);
  assert.deepEqual([...toBuffer(view)], [2, 3]);
});
