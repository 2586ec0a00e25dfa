import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainNode, type NodeExtern, type V2Event } from './event.js';
import { encodeClientEvent, encodeEvent, encodeNodeExtern } from './event-json.js';

const file: NodeExtern = {
  key: '/1/dir/a',
  value: '<v>',
  dir: false,
  expiration: '2013-07-28T08:26:45Z',
  ttl: 5,
  nodes: undefined,
  modifiedIndex: 3,
  createdIndex: 2,
};

test('node JSON keeps Go field order and leaves out zero values', () => {
  assert.equal(encodeNodeExtern(file), '{"key":"/1/dir/a","value":"\\u003cv\\u003e","expiration":"2013-07-28T08:26:45Z","ttl":5,"modifiedIndex":3,"createdIndex":2}');
  assert.equal(encodeNodeExtern(plainNode('', 0, 0)), '{}');
  assert.equal(encodeNodeExtern({ ...plainNode('/d', 4, 4, true), nodes: [] }), '{"key":"/d","dir":true,"modifiedIndex":4,"createdIndex":4}');
  assert.equal(encodeNodeExtern({ ...plainNode('/f', 1, 1), value: '' }), '{"key":"/f","value":"","modifiedIndex":1,"createdIndex":1}');
});

test('the client form trims the namespace from every key and drops the refresh flag', () => {
  const dir: NodeExtern = { ...plainNode('/1/dir', 2, 2, true), nodes: [file] };
  const e: V2Event = { action: 'set', node: dir, prevNode: plainNode('/1/dir', 1, 1, true), etcdIndex: 3, refresh: true };
  assert.equal(
    encodeClientEvent(e, '/1'),
    '{"action":"set","node":{"key":"/dir","dir":true,"nodes":[{"key":"/dir/a","value":"\\u003cv\\u003e","expiration":"2013-07-28T08:26:45Z","ttl":5,"modifiedIndex":3,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/dir","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.match(encodeEvent(e), /,"refresh":true}$/);
});

test('the namespace directory itself loses its key, as etcd shows GET /v2/keys/', () => {
  const e: V2Event = { action: 'get', node: { ...plainNode('/1', 0, 0, true), nodes: [] }, prevNode: undefined, etcdIndex: 5, refresh: false };
  assert.equal(encodeClientEvent(e, '/1'), '{"action":"get","node":{"dir":true}}');
});

test('encoded events parse as JSON', () => {
  const e: V2Event = { action: 'compareAndSwap', node: file, prevNode: { ...file, value: 'a"b\n' }, etcdIndex: 3, refresh: false };
  const parsed = JSON.parse(encodeEvent(e)) as { prevNode: { value: string } };
  assert.equal(parsed.prevNode.value, 'a"b\n');
});
