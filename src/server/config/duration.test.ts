import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGoDuration, formatMs, parseGoDuration } from './duration.js';

test('parses Go duration text to nanoseconds', () => {
  const cases: [string, number][] = [
    ['0', 0], ['1h', 3600e9], ['30m', 1800e9], ['1h30m', 5400e9], ['1.5s', 1.5e9], ['300ms', 300e6],
    ['10us', 10e3], ['10\u00b5s', 10e3], ['5ns', 5], ['-1h', -3600e9], ['+2s', 2e9], ['.5s', 0.5e9], ['2h45m10.5s', 9910.5e9],
  ];
  for (const [text, ns] of cases) assert.deepEqual(parseGoDuration(text), { ok: true, ns }, text);
});

test('reports Go\'s errors', () => {
  assert.deepEqual(parseGoDuration('bad'), { ok: false, error: 'time: invalid duration "bad"' });
  assert.deepEqual(parseGoDuration(''), { ok: false, error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration('5'), { ok: false, error: 'time: missing unit in duration "5"' });
  assert.deepEqual(parseGoDuration('1.5'), { ok: false, error: 'time: missing unit in duration "1.5"' });
  assert.deepEqual(parseGoDuration('5x'), { ok: false, error: 'time: unknown unit "x" in duration "5x"' });
  assert.deepEqual(parseGoDuration('.s'), { ok: false, error: 'time: invalid duration ".s"' });
});

test('formats like Go\'s Duration.String (as etcd logs durations)', () => {
  const cases: [number, string][] = [
    [0, '0s'], [5, '5ns'], [1500, '1.5\u00b5s'], [100e6, '100ms'], [1e9, '1s'], [1.5e9, '1.5s'],
    [90e9, '1m30s'], [600e9, '10m0s'], [3600e9, '1h0m0s'], [5400e9, '1h30m0s'], [7200e9, '2h0m0s'], [-1e9, '-1s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, String(ns));
  assert.equal(formatMs(100), '100ms');
  assert.equal(formatMs(1000), '1s');
});
