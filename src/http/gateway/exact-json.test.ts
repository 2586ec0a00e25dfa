import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGoJsonBody, markRawNumbers, parseJsonExact, rawNumberText } from './exact-json.js';

test('integers beyond 2^53 sent as bare JSON numbers stay exact', () => {
  const parsed = parseJsonExact('{"ID": 7587862072383195149, "TTL": 5}') as { ID: string; TTL: number };
  assert.equal(rawNumberText(parsed.ID), '7587862072383195149');
  assert.equal(parsed.TTL, 5);
});

test('numbers inside strings and short integers are left alone', () => {
  const text = '{"a":"12345678901234567890","c":-12,"d":[1,2],"e":"x\\"1234567890123456789"}';
  assert.equal(markRawNumbers(text), text);
  assert.deepEqual(parseJsonExact(text), JSON.parse(text));
});

test('fractions and exponents keep their literal, so 1e2 is not taken for the integer 100', () => {
  const parsed = parseJsonExact('[1e2,-1.5,2E+3]') as string[];
  assert.deepEqual(parsed.map(rawNumberText), ['1e2', '-1.5', '2E+3']);
  assert.equal(rawNumberText('plain'), undefined);
});

test('a body decodes to its first value, as Go json.Decoder reads it', () => {
  assert.deepEqual(decodeGoJsonBody('{"key":"Zm9v"}x'), { ok: true, value: { key: 'Zm9v' } });
  assert.deepEqual(decodeGoJsonBody('{"a":1} {"a":2}'), { ok: true, value: { a: 1 } });
  assert.deepEqual(decodeGoJsonBody(' \n '), { ok: true, value: undefined });
  assert.deepEqual(decodeGoJsonBody(''), { ok: true, value: undefined });
});

test("malformed bodies get Go's syntax error texts", () => {
  assert.deepEqual(decodeGoJsonBody('{"key":"Zm9v",'), { ok: false, message: 'unexpected EOF' });
  assert.deepEqual(decodeGoJsonBody('key=foo'), { ok: false, message: "invalid character 'k' looking for beginning of value" });
  assert.deepEqual(decodeGoJsonBody('{bad'), { ok: false, message: "invalid character 'b' looking for beginning of object key string" });
  assert.deepEqual(decodeGoJsonBody('{"a" 1}'), { ok: false, message: "invalid character '1' after object key" });
  assert.deepEqual(decodeGoJsonBody('{"a":1 2}'), { ok: false, message: "invalid character '2' after object key:value pair" });
  assert.deepEqual(decodeGoJsonBody('[1 2]'), { ok: false, message: "invalid character '2' after array element" });
  assert.deepEqual(decodeGoJsonBody('{"a":tru}'), { ok: false, message: "invalid character '}' in literal true (expecting 'e')" });
  assert.deepEqual(decodeGoJsonBody('{"a":1.}'), { ok: false, message: "invalid character '}' after decimal point in numeric literal" });
  assert.deepEqual(decodeGoJsonBody('{"a":"\\q"}'), { ok: false, message: "invalid character 'q' in string escape code" });
  assert.deepEqual(decodeGoJsonBody('{"a":"\n"}'), { ok: false, message: "invalid character '\\n' in string literal" });
  assert.deepEqual(decodeGoJsonBody("{'a':1}"), { ok: false, message: "invalid character '\\'' looking for beginning of object key string" });
});
