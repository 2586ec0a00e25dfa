import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeClusterId, computeMemberId, formatId, formatIdPadded, parseId } from './ids.js';
import { parseInitialCluster } from './initial-cluster.js';

// The expected IDs below were read from a real etcd 3.4.23 (Debian's /usr/bin/etcd):
//   etcd --name node-a --initial-cluster-token tok-xyz \
//     --listen-peer-urls http://127.0.0.1:23801 --initial-advertise-peer-urls http://127.0.0.1:23801 ...
//   etcdctl --endpoints http://127.0.0.1:23791 member list -w json
//     → "cluster_id":15989454399132565873, "member_id":1462079545203698290
//   etcdctl member list → 144a5999953b2a72, started, node-a, ...
test('a one-member cluster gets the member and cluster IDs etcd gave it', () => {
  const member = computeMemberId(['http://127.0.0.1:23801'], 'tok-xyz');
  assert.equal(member, 1462079545203698290n);
  assert.equal(formatId(member), '144a5999953b2a72');
  const cluster = computeClusterId([member]);
  assert.equal(cluster, 15989454399132565873n);
  assert.equal(formatId(cluster), 'dde5f40f6c9a8171');
});

// Three etcd 3.4.23 members, token "trio", n1 advertising two peer URLs given out of order:
//   --initial-cluster n1=http://127.0.0.1:23812,n1=http://127.0.0.1:23811,n2=http://127.0.0.1:23821,n3=http://127.0.0.1:23831
//   member list -w json → n1 14250340737852384489 (c5c3616647f824e9), n2 10199058493277077173,
//   n3 13704201337097328366, cluster_id 12508579706442984662.
test('a three-member cluster: URLs sorted per member, IDs sorted for the cluster', () => {
  const initial = parseInitialCluster('n1=http://127.0.0.1:23812,n1=http://127.0.0.1:23811,n2=http://127.0.0.1:23821,n3=http://127.0.0.1:23831');
  assert.ok(initial.ok);
  const ids = [...initial.value].map(([, urls]) => computeMemberId(urls.map((u) => u.text), 'trio'));
  assert.deepEqual(ids, [14250340737852384489n, 10199058493277077173n, 13704201337097328366n]);
  assert.equal(formatId(ids[0]!), 'c5c3616647f824e9');
  assert.equal(computeClusterId(ids), 12508579706442984662n);
  assert.equal(computeClusterId([...ids].reverse()), 12508579706442984662n);
});

// `etcdctl member add n4 --peer-urls=http://127.0.0.1:23841` on that cluster at Unix time
// 1795467167 returned ID 1415918534586100104: a runtime add hashes no token, plus the time.
test('a member added at run time hashes its URLs with an empty token and the add time', () => {
  assert.equal(computeMemberId(['http://127.0.0.1:23841'], '', 1795467167), 1415918534586100104n);
});

test('ID text: unpadded like etcdctl, padded to 16 digits like %016x, and back', () => {
  assert.equal(formatId(0xabn), 'ab');
  assert.equal(formatIdPadded(0xabn), '00000000000000ab');
  assert.equal(formatIdPadded(0xdde5f40f6c9a8171n), 'dde5f40f6c9a8171');
  assert.equal(parseId('144a5999953b2a72'), 1462079545203698290n);
  assert.equal(parseId('AB'), 0xabn);
  assert.equal(parseId(''), undefined);
  assert.equal(parseId('12345678901234567'), undefined);
  assert.equal(parseId('xyz'), undefined);
});

test('parseInitialCluster: repeated names collect URLs; bad URLs fail with etcd\'s text', () => {
  const r = parseInitialCluster('a=http://10.0.0.1:2380,,b=http://10.0.0.2:2380,a=http://10.0.0.1:2381');
  assert.ok(r.ok);
  assert.deepEqual([...r.value.keys()], ['a', 'b']);
  assert.deepEqual(r.value.get('a')!.map((u) => u.text), ['http://10.0.0.1:2380', 'http://10.0.0.1:2381']);
  assert.deepEqual(parseInitialCluster('a=foo'), { ok: false, error: 'URL scheme must be http, https, unix, or unixs: foo' });
  assert.deepEqual(parseInitialCluster('a'), { ok: false, error: 'URL scheme must be http, https, unix, or unixs: ' });
});
