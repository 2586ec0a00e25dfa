import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoJsonStream } from './go-json-stream.js';

test('values split across chunks come out one by one, whitespace or not between them', () => {
  const s = new GoJsonStream();
  s.push('{"a":1}{"b"');
  assert.deepEqual(s.next(), { kind: 'value', value: { a: 1 } });
  assert.deepEqual(s.next(), { kind: 'wait' });
  s.push(':[2]}\n  {"c":3}');
  assert.deepEqual(s.next(), { kind: 'value', value: { b: [2] } });
  assert.deepEqual(s.next(), { kind: 'value', value: { c: 3 } });
  assert.deepEqual(s.next(), { kind: 'wait' });
  s.end();
  assert.deepEqual(s.next(), { kind: 'eof' });
});

test("a syntax error ends the stream with Go's text; a value cut by the end is unexpected EOF", () => {
  const bad = new GoJsonStream();
  bad.push('{"a":1} {x');
  assert.equal(bad.next().kind, 'value');
  assert.deepEqual(bad.next(), { kind: 'error', message: "invalid character 'x' looking for beginning of object key string" });
  assert.equal(bad.next().kind, 'error');
  const cut = new GoJsonStream();
  cut.push('{"a":');
  cut.end();
  assert.deepEqual(cut.next(), { kind: 'error', message: 'unexpected EOF' });
});

test('a top-level number is complete only once the byte after it or the end has come', () => {
  const s = new GoJsonStream();
  s.push('12');
  assert.deepEqual(s.next(), { kind: 'wait' });
  s.end();
  assert.deepEqual(s.next(), { kind: 'value', value: 12 });
});
