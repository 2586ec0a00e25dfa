import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMemberRequestBody } from './member-request.js';

const err = (body: string): string => {
  const r = parseMemberRequestBody(body);
  return r.ok ? 'ok' : r.message;
};

test('peer URLs are read case-insensitively and sorted, as etcd types.NewURLs sorts them', () => {
  assert.deepEqual(parseMemberRequestBody('{"peerurls":[" http://b:2 ","http://a:1"],"x":1}'), { ok: true, peerURLs: ['http://a:1', 'http://b:2'] });
});

test("malformed JSON and wrong types get Go's json.Unmarshal texts", () => {
  assert.equal(err('{bad'), "invalid character 'b' looking for beginning of object key string");
  assert.equal(err(''), 'unexpected end of JSON input');
  assert.equal(err('{"peerURLs":["http://a:1"]'), 'unexpected end of JSON input');
  assert.equal(err('{"peerURLs":["http://a:1"]}x'), "invalid character 'x' after top-level value");
  assert.equal(err('{"peerURLs":"x"}'), 'json: cannot unmarshal string into Go struct field .peerURLs of type []string');
  assert.equal(err('{"peerURLs":[1]}'), 'json: cannot unmarshal number into Go struct field .peerURLs of type string');
  assert.equal(err('[]'), 'json: cannot unmarshal array into Go value of type struct { PeerURLs []string "json:\\"peerURLs\\"" }');
});

test("bad URLs get etcd's types.NewURLs texts", () => {
  assert.equal(err('{}'), 'no valid URLs given');
  assert.equal(err('null'), 'no valid URLs given');
  assert.equal(err('{"peerURLs":["x"]}'), 'URL scheme must be http, https, unix, or unixs: x');
  assert.equal(err('{"peerURLs":["http://1.2.3.4"]}'), 'URL address does not have the form "host:port": http://1.2.3.4');
  assert.equal(err('{"peerURLs":["http://1.2.3.4:2380/x"]}'), 'URL must not contain a path: http://1.2.3.4:2380/x');
  assert.equal(err('{"peerURLs":["http://[::1]:2380"]}'), 'ok');
});

test("URLs Go's url.Parse refuses get its error text", () => {
  assert.equal(err('{"peerURLs":["127.0.0.1:1"]}'), 'parse "127.0.0.1:1": first path segment in URL cannot contain colon');
  assert.equal(err('{"peerURLs":[":1"]}'), 'parse ":1": missing protocol scheme');
});
