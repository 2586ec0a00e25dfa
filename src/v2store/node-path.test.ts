import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanPath, isHiddenFrom, joinChild, splitPath } from './node-path.js';

test('cleanPath matches Go path.Clean(path.Join("/", p))', () => {
  const cases: [string, string][] = [
    ['', '/'], ['/', '/'], ['foo', '/foo'], ['/foo', '/foo'], ['/foo/', '/foo'], ['//foo//bar//', '/foo/bar'],
    ['/./foo/.', '/foo'], ['/foo/../bar', '/bar'], ['/../..', '/'], ['a/b/../../..', '/'], ['/foo/.bar', '/foo/.bar'],
    ['/foo/..bar', '/foo/..bar'], ['/foo/bar..', '/foo/bar..'], ['/1/_hidden', '/1/_hidden'],
  ];
  for (const [p, want] of cases) assert.equal(cleanPath(p), want, JSON.stringify(p));
});

test('splitPath keeps the trailing slash on the directory part', () => {
  assert.deepEqual(splitPath('/foo/bar'), ['/foo/', 'bar']);
  assert.deepEqual(splitPath('/foo'), ['/', 'foo']);
  assert.equal(joinChild('/', 'a'), '/a');
  assert.equal(joinChild('/a', 'b'), '/a/b');
});

test('isHiddenFrom hides keys below a "_" component under the watched path', () => {
  assert.equal(isHiddenFrom('/foo', '/foo/_bar'), true);
  assert.equal(isHiddenFrom('/foo', '/foo/_bar/baz'), true);
  assert.equal(isHiddenFrom('/', '/_x/y'), true);
  assert.equal(isHiddenFrom('/foo', '/foo/bar'), false);
  assert.equal(isHiddenFrom('/_foo/bar', '/_foo/bar/baz'), false);
  assert.equal(isHiddenFrom('/foo/bar', '/foo'), false);
  assert.equal(isHiddenFrom('/foo', '/foo/b_ar'), false);
});
