import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V2Stats } from '../../server/v2-stats.js';
import { goFloat, leaderStatsJson, selfStatsJson } from './v2-stats-json.js';

test("floats are written as Go's encoding/json writes float64", () => {
  assert.equal(goFloat(0), '0');
  assert.equal(goFloat(6.006214124308403), '6.006214124308403');
  assert.equal(goFloat(2 ** 63), '9223372036854776000');
  assert.equal(goFloat(1e-7), '1e-07');
  assert.equal(goFloat(1e21), '1e+21');
});

test('self stats leave zero rates out, in etcd field order', () => {
  const stats = new V2Stats(() => 0);
  const body = selfStatsJson({ name: 'a', id: 10n, state: 'StateFollower', startTimeMs: 0, leader: 11n, leaderSinceMs: 0, nowMs: 1500 }, stats);
  assert.equal(body, '{"name":"a","id":"a","state":"StateFollower","startTime":"1970-01-01T00:00:00Z","leaderInfo":{"leader":"b","uptime":"1.5s","startTime":"1970-01-01T00:00:00Z"},"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}');
});

test('leader stats list every follower sorted by ID, untouched ones with minimum 2^63', () => {
  const stats = new V2Stats(() => 0);
  const body = leaderStatsJson(1n, [0x20n, 0x3n], stats);
  const zero = '{"latency":{"current":0,"average":0,"standardDeviation":0,"minimum":9223372036854776000,"maximum":0},"counts":{"fail":0,"success":0}}';
  assert.equal(body, `{"leader":"1","followers":{"20":${zero},"3":${zero}}}`);
});
