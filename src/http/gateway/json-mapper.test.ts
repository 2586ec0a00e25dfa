import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as pb from '../../api/gen/etcdserverpb.js';
import * as mvccpb from '../../api/gen/mvccpb.js';
import { parseJsonExact } from './exact-json.js';
import { JsonMappingError, messageFromJson, messageToJson } from './json-mapper.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const header = pb.createResponseHeader({ clusterId: 15118495548433857066n, memberId: 13668033151171901709n, revision: 2, raftTerm: 2 });

test('response header writes proto names and 64-bit integers as strings', () => {
  assert.equal(
    messageToJson('etcdserverpb.PutResponse', pb.createPutResponse({ header })),
    '{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"}}',
  );
});

test('zero scalars, empty lists and absent messages are left out', () => {
  assert.equal(messageToJson('etcdserverpb.RangeResponse', pb.createRangeResponse()), '{}');
  assert.equal(messageToJson('etcdserverpb.RangeResponse', pb.createRangeResponse({ header: pb.createResponseHeader() })), '{"header":{}}');
});

test('bytes are base64 and uint32 stays a number', () => {
  const kv = mvccpb.createKeyValue({ key: bytes('foo'), value: bytes('bar'), createRevision: 2, modRevision: 2, version: 1 });
  assert.equal(
    messageToJson('etcdserverpb.RangeResponse', pb.createRangeResponse({ kvs: [kv], count: 1 })),
    '{"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}',
  );
  assert.equal(messageToJson('etcdserverpb.HashResponse', pb.createHashResponse({ hash: 2833519315 })), '{"hash":2833519315}');
});

test('fields declared in camelCase keep that name (StatusResponse raftTerm)', () => {
  const json = messageToJson('etcdserverpb.StatusResponse', pb.createStatusResponse({ version: '3.4.23', dbSize: 20480, leader: 7n, raftTerm: 2 }));
  assert.equal(json, '{"version":"3.4.23","dbSize":"20480","leader":"7","raftTerm":"2"}');
});

test('enums are written by name in declaration order (result EQUAL is zero), a set oneof member even at its zero value', () => {
  const cmp = pb.createCompare({ key: bytes('foo'), target: pb.Compare_CompareTarget.VALUE, result: pb.Compare_CompareResult.EQUAL, value: new Uint8Array(0) });
  assert.equal(messageToJson('etcdserverpb.Compare', cmp), '{"target":"VALUE","key":"Zm9v","value":""}');
});

test('request accepts proto names, json names, numbers or strings for int64, enum names or numbers', () => {
  const a = messageFromJson<pb.RangeRequest>('etcdserverpb.RangeRequest', { key: 'Zm9v', range_end: 'Zm9w', limit: '5', sort_order: 'DESCEND', sortTarget: 3, keys_only: true });
  assert.deepEqual(a, pb.createRangeRequest({ key: bytes('foo'), rangeEnd: bytes('fop'), limit: 5, sortOrder: 2, sortTarget: 3, keysOnly: true }));
  const b = messageFromJson<pb.PutRequest>('etcdserverpb.PutRequest', { key: 'Zm9v', lease: 7587862072907437000, prevKv: true, bogus: 1 });
  assert.equal(b.lease, 7587862072907437000n);
  assert.equal(b.prevKv, true);
  assert.equal(messageFromJson<pb.PutRequest>('etcdserverpb.PutRequest', { lease: '-1' }).lease, -1n);
  assert.throws(() => messageFromJson('etcdserverpb.PutRequest', { lease: '9223372036854775808' }), JsonMappingError);
});

test('nested txn with compare and request oneofs round-trips', () => {
  const txn = messageFromJson<pb.TxnRequest>('etcdserverpb.TxnRequest', {
    compare: [{ key: 'Zm9v', target: 'VALUE', result: 'EQUAL', value: 'YmFy' }, { key: 'Zm9v', target: 'CREATE', create_revision: '0' }],
    success: [{ request_put: { key: 'Zm9v', value: 'YmF6' } }, { requestRange: { key: 'Zm9v' } }],
    failure: [{ request_delete_range: { key: 'Zm9v' } }],
  });
  assert.deepEqual(txn.compare[0].value, bytes('bar'));
  assert.equal(txn.compare[1].createRevision, 0);
  assert.deepEqual(txn.success[0].requestPut?.value, bytes('baz'));
  assert.equal(txn.success[0].requestRange, undefined);
  assert.deepEqual(txn.success[1].requestRange?.key, bytes('foo'));
  assert.deepEqual(txn.failure[0].requestDeleteRange?.key, bytes('foo'));
  const res = pb.createTxnResponse({
    header,
    succeeded: true,
    responses: [
      pb.createResponseOp({ responsePut: pb.createPutResponse({ header: pb.createResponseHeader({ revision: 3 }) }) }),
      pb.createResponseOp({ responseRange: pb.createRangeResponse({ header: pb.createResponseHeader({ revision: 3 }), count: 1 }) }),
    ],
  });
  assert.equal(
    messageToJson('etcdserverpb.TxnResponse', res),
    '{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},"succeeded":true,' +
      '"responses":[{"response_put":{"header":{"revision":"3"}}},{"response_range":{"header":{"revision":"3"},"count":"1"}}]}',
  );
});

test('bad input is rejected with jsonpb texts', () => {
  assert.throws(() => messageFromJson('etcdserverpb.PutRequest', { key: 'Zm9v!' }), new JsonMappingError('illegal base64 data at input byte 4'));
  assert.throws(() => messageFromJson('etcdserverpb.PutRequest', { lease: 'abc' }), new JsonMappingError("invalid character 'a' looking for beginning of value"));
  assert.throws(() => messageFromJson('etcdserverpb.PutRequest', []), new JsonMappingError('json: cannot unmarshal array into Go value of type map[string]json.RawMessage'));
  assert.throws(
    () => messageFromJson('etcdserverpb.RangeRequest', { sort_order: 'BAD' }),
    new JsonMappingError('unknown value "BAD" for enum etcdserverpb.RangeRequest_SortOrder'),
  );
});

test('null and an absent body give the default message', () => {
  assert.deepEqual(messageFromJson('etcdserverpb.RangeRequest', null), pb.createRangeRequest());
  assert.deepEqual(messageFromJson('etcdserverpb.RangeRequest', { key: null }), pb.createRangeRequest());
});

test("wrong types and non-integer numbers get Go's texts, as etcd 3.4's gateway answers them", () => {
  const range = (body: string): string => {
    try {
      messageFromJson('etcdserverpb.RangeRequest', parseJsonExact(body));
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.equal(range('{"key":"Zm9v","limit":1e2}'), 'json: cannot unmarshal number 1e2 into Go value of type int64');
  assert.equal(range('{"key":"Zm9v","revision":1.5}'), 'json: cannot unmarshal number 1.5 into Go value of type int64');
  assert.equal(range('{"key":"Zm9v","limit":"1.5"}'), 'json: cannot unmarshal number 1.5 into Go value of type int64');
  assert.equal(range('{"key":"Zm9v","limit":"x"}'), "invalid character 'x' looking for beginning of value");
  assert.equal(range('{"key":"Zm9v","limit":""}'), 'unexpected end of JSON input');
  assert.equal(range('{"key":"Zm9v","limit":"1 2"}'), "invalid character '2' after top-level value");
  assert.equal(range('{"key":"Zm9v","limit":"true"}'), 'json: cannot unmarshal bool into Go value of type int64');
  assert.equal(range('{"key":"Zm9v","limit":true}'), 'json: cannot unmarshal bool into Go value of type int64');
  assert.equal(range('{"key":12345678901234567890}'), 'json: cannot unmarshal number into Go value of type []uint8');
  assert.equal(range('{"key":1.5}'), 'json: cannot unmarshal number into Go value of type []uint8');
  assert.equal(range('{"key":"Zm9v","keys_only":"true"}'), 'json: cannot unmarshal string into Go value of type bool');
  assert.equal(range('{"key":"Zm9v","sort_order":1.5}'), 'json: cannot unmarshal number 1.5 into Go value of type etcdserverpb.RangeRequest_SortOrder');
  assert.equal(range('{"key":"Zm9v","nope":1}'), 'ok');
  assert.equal(range('{"key":"Zm9v","limit":"null"}'), 'ok');
});
