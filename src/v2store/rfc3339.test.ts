import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRand } from '../pkg/rand.js';
import { GO_ZERO_TIME_MS, formatRfc3339Nano, parseRfc3339 } from './rfc3339.js';

test('formats as Go RFC3339Nano in UTC, trailing fraction zeros dropped', () => {
  assert.equal(formatRfc3339Nano(1_375_000_000_000), '2013-07-28T08:26:40Z');
  assert.equal(formatRfc3339Nano(1_375_000_000_500), '2013-07-28T08:26:40.5Z');
  assert.equal(formatRfc3339Nano(1_375_000_000_120), '2013-07-28T08:26:40.12Z');
  assert.equal(formatRfc3339Nano(1_375_000_000_007), '2013-07-28T08:26:40.007Z');
  assert.equal(formatRfc3339Nano(0), '1970-01-01T00:00:00Z');
  assert.equal(formatRfc3339Nano(GO_ZERO_TIME_MS), '0001-01-01T00:00:00Z');
  assert.equal(formatRfc3339Nano(951_782_400_000), '2000-02-29T00:00:00Z');
});

test('agrees with Date on random instants', () => {
  const rand = seededRand(42);
  for (let i = 0; i < 2000; i++) {
    const ms = rand.intn(8_000_000_000_000) - 2_000_000_000_000;
    const iso = new Date(ms).toISOString();
    const expected = iso.replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
    assert.equal(formatRfc3339Nano(ms), expected, `ms ${ms}`);
    assert.equal(parseRfc3339(formatRfc3339Nano(ms)), ms);
  }
});

test('parses offsets and nanoseconds, truncating below a millisecond', () => {
  assert.equal(parseRfc3339('2013-07-28T16:26:40.123456789+08:00'), 1_375_000_000_123);
  assert.equal(parseRfc3339('2013-07-28T03:26:40-05:00'), 1_375_000_000_000);
  assert.equal(parseRfc3339('0001-01-01T00:00:00Z'), GO_ZERO_TIME_MS);
  assert.equal(parseRfc3339('1969-12-31T23:59:59.999Z'), -1);
});

test('rejects what is not an RFC 3339 time', () => {
  for (const s of ['', '2013-07-28', '2013-07-28 08:26:40Z', '2013-13-01T00:00:00Z', '2013-07-28T08:26:40', '2013-07-28T08:26:40.Z']) {
    assert.equal(parseRfc3339(s), undefined, s);
  }
});
