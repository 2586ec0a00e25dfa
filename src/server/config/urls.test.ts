import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBindUrls, checkHostUrls, parseEtcdUrl, parseUrlList, splitHostPort } from './urls.js';

test('parses the parts etcd uses and prints the URL as Go does', () => {
  const r = parseEtcdUrl(' HTTP://[::1]:2379 ');
  assert.ok(r.ok);
  assert.deepEqual(r.value, { scheme: 'http', host: '[::1]:2379', hostname: '::1', port: '2379', text: 'http://[::1]:2379' });
  const unix = parseEtcdUrl('unix://etcd.sock:0');
  assert.ok(unix.ok);
  assert.equal(unix.value.host, 'etcd.sock:0');
});

test('rejects with etcd\'s texts', () => {
  assert.deepEqual(parseEtcdUrl('localhost:2379'), { ok: false, error: 'URL scheme must be http, https, unix, or unixs: localhost:2379' });
  assert.deepEqual(parseEtcdUrl('unix:///tmp/x.sock'), { ok: false, error: 'URL address does not have the form "host:port": unix:///tmp/x.sock' });
  assert.deepEqual(parseEtcdUrl('http://a:1/'), { ok: false, error: 'URL must not contain a path: http://a:1/' });
  assert.deepEqual(parseEtcdUrl(':2379'), { ok: false, error: 'parse ":2379": missing protocol scheme' });
});

test('lists are sorted and keep duplicates', () => {
  const r = parseUrlList('http://b:1,http://a:1,http://a:1');
  assert.ok(r.ok);
  assert.deepEqual(r.value.map((u) => u.text), ['http://a:1', 'http://a:1', 'http://b:1']);
  assert.deepEqual(parseUrlList('http://a:1,'), { ok: false, error: 'URL scheme must be http, https, unix, or unixs: ' });
});

test('binding needs an IP or localhost; advertising needs a host', () => {
  const list = (s: string) => {
    const r = parseUrlList(s);
    assert.ok(r.ok);
    return r.value;
  };
  assert.equal(checkBindUrls(list('http://127.0.0.1:1,http://localhost:2,http://[::1]:3,unix://x:4')), undefined);
  assert.equal(checkBindUrls(list('http://host.example:1')), 'expected IP in URL for binding (http://host.example:1)');
  assert.equal(checkHostUrls(list('http://host.example:1')), undefined);
  assert.equal(checkHostUrls(list('http://:1')), 'unexpected empty host (http://:1)');
});

test('splitHostPort follows Go', () => {
  assert.deepEqual(splitHostPort('a:1'), { host: 'a', port: '1' });
  assert.deepEqual(splitHostPort('[::1]:1'), { host: '::1', port: '1' });
  assert.equal(splitHostPort('a'), undefined);
  assert.equal(splitHostPort('a:1:2'), undefined);
});
