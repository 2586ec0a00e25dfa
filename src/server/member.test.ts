import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributesFromJson, attributesToJson, memberFromJson, memberToJson } from './member.js';

const m = { id: 10276657743932975437n, name: 'infra1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [], isLearner: false };

test('a member marshals as etcd 3.4 writes it: decimal id, empty fields left out', () => {
  assert.equal(memberToJson(m), '{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"name":"infra1"}');
  assert.equal(
    memberToJson({ ...m, name: '', isLearner: true, clientUrls: ['http://a:2379'] }, false),
    '{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"isLearner":true,"clientURLs":["http://a:2379"],"isPromote":false}',
  );
});

test('parsing keeps all 64 bits of the id and reads isPromote', () => {
  const back = memberFromJson(memberToJson(m, true));
  assert.deepEqual(back, { member: m, isPromote: true });
  assert.equal(memberFromJson('{"id":18446744073709551615,"peerURLs":null}').member.id, 2n ** 64n - 1n);
  assert.throws(() => memberFromJson('{"peerURLs":[]}'), /without an id/);
});

test('attributes round-trip in etcd form', () => {
  const a = { name: 'x', clientUrls: ['http://127.0.0.1:2379'] };
  assert.equal(attributesToJson(a), '{"name":"x","clientURLs":["http://127.0.0.1:2379"]}');
  assert.deepEqual(attributesFromJson(attributesToJson(a)), a);
  assert.equal(attributesToJson({ name: '', clientUrls: [] }), '{}');
});
