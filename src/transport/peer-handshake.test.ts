import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerHeader, checkHandshake, formatId, handshakeHeaders, parseId } from './peer-handshake.js';
import { LogLimiter } from './log-limiter.js';

const local = { memberId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n };
const never = (): boolean => false;

test('member IDs print as etcd prints them and parse back', () => {
  assert.equal(formatId(0x8e9e05c52164694dn), '8e9e05c52164694d');
  assert.equal(parseId('8e9e05c52164694d'), 0x8e9e05c52164694dn);
  assert.equal(parseId('ffffffffffffffff'), 0xffffffffffffffffn);
  assert.equal(parseId('1ffffffffffffffff'), undefined);
  assert.equal(parseId('xyz'), undefined);
  assert.equal(parseId(undefined), undefined);
});

test('a handshake from a member of the same cluster to us is accepted', () => {
  const headers = handshakeHeaders({ memberId: 5n, clusterId: local.clusterId }, local.memberId);
  assert.deepEqual(checkHandshake(headers, local, never), { ok: true, from: 5n });
});

test('handshakes are refused with etcd-like statuses: other cluster 412, other target 412, removed 410, bad version 400', () => {
  const good = handshakeHeaders({ memberId: 5n, clusterId: local.clusterId }, local.memberId);
  const status = (h: Record<string, string>, removed: (id: bigint) => boolean = never): number => {
    const v = checkHandshake(h, local, removed);
    return v.ok ? 200 : v.status;
  };
  assert.equal(status({ ...good, [PeerHeader.clusterId]: '1234' }), 412);
  assert.equal(status({ ...good, [PeerHeader.to]: '99' }), 412);
  assert.equal(status(good, (id) => id === 5n), 410);
  assert.equal(status({ ...good, [PeerHeader.protocol]: '2' }), 400);
  assert.equal(status({ ...good, [PeerHeader.from]: 'zz' }), 400);
  const v = checkHandshake({ ...good, [PeerHeader.clusterId]: '1234' }, local, never);
  assert.ok(!v.ok && v.remoteClusterId === 0x1234n && v.from === 5n);
});

test('the log limiter lets one line per interval through and counts the rest', () => {
  let now = 0;
  const l = new LogLimiter(1000, () => now);
  assert.equal(l.allow('k'), 0);
  assert.equal(l.allow('k'), -1);
  assert.equal(l.allow('other'), 0);
  now = 500;
  assert.equal(l.allow('k'), -1);
  now = 1000;
  assert.equal(l.allow('k'), 2);
  l.forget('k');
  assert.equal(l.allow('k'), 0);
});
