import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, formatLogTime, isLogLevel, sinkForOutputs, type LogFields } from './logger.js';

function capture(level: Parameters<typeof createLogger>[0] = {}): { lines: string[]; records: () => Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger({ now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), ...level, sink: (l) => lines.push(l) });
  return { lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), log };
}

test('writes zap-shaped JSON lines: level, ts, caller, msg, then fields in order', () => {
  const { lines, log } = capture();
  log.info('starting an etcd server', { name: 'n1', 'snapshot-count': 100000, urls: ['http://a:1'] });
  assert.equal(lines.length, 1);
  const keys = Object.keys(JSON.parse(lines[0]!) as object);
  assert.deepEqual(keys, ['level', 'ts', 'caller', 'msg', 'name', 'snapshot-count', 'urls']);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec.level, 'info');
  assert.equal(rec.msg, 'starting an etcd server');
  assert.deepEqual(rec.urls, ['http://a:1']);
});

test('caller names the calling file and line, not the logger', () => {
  const { records, log } = capture();
  log.warn('x');
  const caller = records()[0]!.caller as string;
  assert.match(caller, /^pkg\/logger\.test\.(ts|js):\d+$/);
});

test('caller can be turned off', () => {
  const { records, log } = capture({ caller: false });
  log.info('x');
  assert.equal('caller' in records()[0]!, false);
});

test('levels below the minimum are dropped and report disabled', () => {
  const { records, log } = capture({ level: 'warn' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  log.fatal('f');
  assert.deepEqual(records().map((r) => r.level), ['warn', 'error', 'fatal']);
  assert.equal(log.enabled('info'), false);
  assert.equal(log.enabled('error'), true);
});

test('a disabled level does not touch its fields', () => {
  const { lines, log } = capture({ level: 'error' });
  const fields: LogFields = {
    get expensive(): string {
      throw new Error('fields of a disabled level must not be read');
    },
  };
  log.info('skipped', fields);
  assert.equal(lines.length, 0);
});

test('child loggers add bound fields to every line and share the sink', () => {
  const { records, log } = capture();
  const raft = log.child({ component: 'raft', 'local-member-id': '144a5999953b2a72' });
  raft.info('became leader', { term: 2 });
  log.info('plain');
  const [a, b] = records();
  assert.equal(a!.component, 'raft');
  assert.equal(a!['local-member-id'], '144a5999953b2a72');
  assert.equal(a!.term, 2);
  assert.equal('component' in b!, false);
});

test('bigints print as exact numbers and errors as their message', () => {
  const { lines, log } = capture();
  log.error('failed', { id: 15989454399132565873n, error: new Error('boom'), nested: { id: 1n } });
  assert.match(lines[0]!, /"id":15989454399132565873,/);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec.error, 'boom');
  assert.deepEqual(rec.nested, { id: '1' });
});

test('ts is ISO 8601 with milliseconds and the zone', () => {
  const d = new Date(Date.UTC(2026, 10, 23, 20, 52, 13, 366));
  const text = formatLogTime(d);
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4})$/);
  if (d.getTimezoneOffset() === 0) assert.equal(text, '2026-11-23T20:52:13.366Z');
});

test('isLogLevel accepts exactly etcd\'s level names', () => {
  for (const l of ['debug', 'info', 'warn', 'error', 'panic', 'fatal']) assert.equal(isLogLevel(l), true);
  for (const l of ['DEBUG', 'warning', 'trace', '']) assert.equal(isLogLevel(l), false);
});

test('sinkForOutputs appends to a file target', () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-logger-'));
  try {
    const path = join(dir, 'etcd.log');
    const log = createLogger({ sink: sinkForOutputs([path]) });
    log.info('one');
    log.info('two');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['one', 'two']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
