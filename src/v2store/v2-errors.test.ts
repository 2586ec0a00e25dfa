import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V2ErrorCode, V2_ERROR_SPECS, encodeV2Error, newV2Error, v2ErrorSpec, v2ErrorStatus, v2ErrorText } from './v2-errors.js';

test('every v2 error code has exactly one table row', () => {
  const codes = Object.values(V2ErrorCode);
  assert.equal(V2_ERROR_SPECS.length, codes.length);
  assert.deepEqual(V2_ERROR_SPECS.map((s) => s.errorCode).sort(), [...codes].sort());
});

test('messages are etcd 3.4 texts', () => {
  const msg = (c: number) => v2ErrorSpec(c)?.message;
  assert.equal(msg(100), 'Key not found');
  assert.equal(msg(101), 'Compare failed');
  assert.equal(msg(102), 'Not a file');
  assert.equal(msg(104), 'Not a directory');
  assert.equal(msg(105), 'Key already exists');
  assert.equal(msg(107), 'Root is read only');
  assert.equal(msg(108), 'Directory not empty');
  assert.equal(msg(110), 'The request requires user authentication');
  assert.equal(msg(201), 'PrevValue is Required in POST form');
  assert.equal(msg(202), 'The given TTL in POST form is not a number');
  assert.equal(msg(203), 'The given index in POST form is not a number');
  assert.equal(msg(209), 'Invalid field');
  assert.equal(msg(210), 'Invalid POST form');
  assert.equal(msg(211), 'Value provided on refresh');
  assert.equal(msg(212), 'A TTL must be provided on refresh');
  assert.equal(msg(300), 'Raft Internal Error');
  assert.equal(msg(301), 'During Leader Election');
  assert.equal(msg(400), 'watcher is cleared due to etcd recovery');
  assert.equal(msg(401), 'The event in requested index is outdated and cleared');
});

test('HTTP statuses follow etcd errorStatus, 400 otherwise', () => {
  const expected: [number, number][] = [
    [100, 404], [101, 412], [102, 403], [104, 400], [105, 412], [107, 400], [108, 403], [110, 401],
    [201, 400], [209, 400], [300, 500], [301, 500], [400, 400], [401, 400], [999, 400],
  ];
  for (const [code, status] of expected) assert.equal(v2ErrorStatus(code), status, `code ${code}`);
});

test('error JSON has etcd field order and leaves out an empty cause', () => {
  assert.equal(encodeV2Error(newV2Error(V2ErrorCode.KeyNotFound, '/1/foo', 7)), '{"errorCode":100,"message":"Key not found","cause":"/1/foo","index":7}');
  assert.equal(encodeV2Error(newV2Error(V2ErrorCode.InvalidForm)), '{"errorCode":210,"message":"Invalid POST form","index":0}');
  assert.equal(encodeV2Error(newV2Error(V2ErrorCode.TestFailed, '[<a> != b]', 3)), '{"errorCode":101,"message":"Compare failed","cause":"[\\u003ca\\u003e != b]","index":3}');
});

test('error text is "message (cause)"', () => {
  assert.equal(v2ErrorText(newV2Error(V2ErrorCode.NotFile, '/d', 1)), 'Not a file (/d)');
});
