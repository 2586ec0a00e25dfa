import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonString } from './go-json.js';

test('plain strings encode as JSON.stringify does', () => {
  for (const s of ['', 'hello', 'a b/c:d', 'üñí©ødé', '日本語', '😀', "it's"]) assert.equal(goJsonString(s), JSON.stringify(s));
});

test('HTML characters and line separators are escaped as Go does', () => {
  assert.equal(goJsonString('<a href="x">&</a>'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
  assert.equal(goJsonString('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
});

test('control characters use Go 1.12 forms', () => {
  assert.equal(goJsonString('\n\r\t'), '"\\n\\r\\t"');
  assert.equal(goJsonString('\b\f\u0000\u001f'), '"\\u0008\\u000c\\u0000\\u001f"');
  assert.equal(goJsonString('back\\slash'), '"back\\\\slash"');
});

test('escaped output parses back to the input', () => {
  const s = 'x<y>&"\\\n\u0001\u2028z';
  assert.equal(JSON.parse(goJsonString(s)), s);
});
