import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonExact, quoteLongIntegers, splitJsonValues } from './exact-json.js';

test('integers beyond 2^53 sent as bare JSON numbers stay exact', () => {
  const parsed = parseJsonExact('{"ID": 7587862072383195149, "TTL": 5}') as { ID: string; TTL: number };
  assert.equal(parsed.ID, '7587862072383195149');
  assert.equal(BigInt(parsed.ID), 7587862072383195149n);
  assert.equal(parsed.TTL, 5);
});

test('numbers inside strings, decimals, exponents and short integers are left alone', () => {
  const text = '{"a":"12345678901234567890","b":1.2345678901234567e3,"c":-12,"d":[1,2],"e":"x\\"1234567890123456789"}';
  assert.equal(quoteLongIntegers(text), text);
  assert.deepEqual(parseJsonExact(text), JSON.parse(text));
});

test('negative long integers and several in one body are all quoted', () => {
  assert.equal(quoteLongIntegers('[-9223372036854775808,18446744073709551615]'), '["-9223372036854775808","18446744073709551615"]');
});

test('malformed JSON still fails to parse', () => {
  assert.throws(() => parseJsonExact('{"ID": 12345678901234567890'));
});

test('a stream body splits into its JSON values', () => {
  assert.deepEqual(splitJsonValues('{"ID":1}{"ID":"2"}\n {"a":{"b":"}{"}}'), ['{"ID":1}', '{"ID":"2"}', '{"a":{"b":"}{"}}']);
  assert.deepEqual(splitJsonValues('  '), []);
});
