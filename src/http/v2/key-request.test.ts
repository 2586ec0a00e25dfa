import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKeyRequest } from './key-request.js';

const exp = (ttl: number): bigint => BigInt(ttl) * 1_000_000_000n;

test('a PUT form becomes a request under /1 with the TTL as an absolute expiry', () => {
  const r = parseKeyRequest('PUT', '/v2/keys/a/b', 'prevExist=false', 'value=Hello+world&ttl=5', undefined, exp);
  assert.ok(r.ok);
  assert.equal(r.req.Path, '/1/a/b');
  assert.equal(r.req.Val, 'Hello world');
  assert.equal(r.req.PrevExist, false);
  assert.equal(r.req.Expiration, 5_000_000_000n);
});

test('bad fields answer with etcd v2 error codes and causes', () => {
  const cases: [string, string, number, string][] = [
    ['ttl=abc', '', 202, 'invalid value for "ttl"'],
    ['', 'prevIndex=-1', 203, 'invalid value for "prevIndex"'],
    ['', 'recursive=maybe', 209, 'invalid value for "recursive"'],
    ['', 'prevValue=', 201, '"prevValue" cannot be empty'],
    ['value=%zz', '', 210, 'invalid URL escape "%zz"'],
    ['', 'a=1;b=2', 210, 'invalid semicolon separator in query'],
    ['refresh=true', '', 212, 'No TTL value set'],
    ['refresh=true&value=v&ttl=1', '', 211, 'A value was provided on a refresh'],
    ['', 'wait=true', 209, '"wait" can only be used with GET requests'],
  ];
  for (const [body, query, code, cause] of cases) {
    const r = parseKeyRequest('PUT', '/v2/keys/x', query, body, undefined, exp);
    assert.ok(!r.ok, `${body} ${query}`);
    assert.deepEqual([r.error.errorCode, r.error.cause, r.error.index], [code, cause, 0]);
  }
});

test('a body over Go’s form limit is an invalid form', () => {
  const r = parseKeyRequest('PUT', '/v2/keys/x', '', '', 'http: POST too large', exp);
  assert.ok(!r.ok);
  assert.equal(r.error.errorCode, 210);
});
