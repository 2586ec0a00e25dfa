import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EtcdctlResult } from '../harness/etcdctl.js';
import { renderRun, writeOutFormat, type NormalizeContext } from './normalize-output.js';

const ctx: NormalizeContext = { clientPort: 41234, peerPort: 41235, memberId: 0xabcn, clusterId: 4000n };

function result(stdout: string, stderr = '', code = 0): EtcdctlResult {
  return { code, stdout, stderr, stdoutBytes: Buffer.from(stdout), timedOut: false };
}

test('writeOutFormat reads every spelling of -w', () => {
  assert.equal(writeOutFormat(['get', 'a']), 'simple');
  assert.equal(writeOutFormat(['get', 'a', '-w', 'json']), 'json');
  assert.equal(writeOutFormat(['--write-out=fields', 'get', 'a']), 'fields');
});

test('renderRun names the predicted IDs and ports but leaves other numbers exact', () => {
  const out = renderRun(
    ['member', 'list', '-w', 'json'],
    result('{"cluster_id":4000,"member_id":2748,"ID":2749,"url":"http://127.0.0.1:41235","rev":41234}\n'),
    ctx,
  );
  assert.equal(out, '{"cluster_id":<cluster-id>,"member_id":<member-id>,"ID":2749,"url":"http://127.0.0.1:<peer-port>","rev":41234}\n');
});

test('renderRun condenses client retry logs and records the exit code', () => {
  const log =
    '{"level":"warn","ts":"2026-01-01T00:00:00Z","caller":"x.go:1","msg":"retrying of unary invoker failed","target":"endpoint://client-1/127.0.0.1:41234","attempt":0,"error":"rpc error: code = OutOfRange desc = boom"}\nError: boom\n';
  assert.equal(
    renderRun(['get', 'a'], result('', log, 1), ctx),
    'stderr: [warn] retrying of unary invoker failed attempt=0 error="rpc error: code = OutOfRange desc = boom"\nstderr: Error: boom\nexit: 1\n',
  );
});

test('renderRun masks what endpoint status may legitimately report differently', () => {
  const simple = renderRun(
    ['endpoint', 'status'],
    result('127.0.0.1:41234, abc, 3.4.23, 20 kB, true, false, 2, 6, 6, \n'),
    ctx,
  );
  assert.equal(simple, '127.0.0.1:<client-port>, <member-id>, <masked>, <masked>, true, false, 2, <masked>, <masked>, \n');
  const table = renderRun(
    ['endpoint', 'status', '-w', 'table'],
    result('+---+\n|  ENDPOINT  | ID | VERSION | DB | L | LE | T | I | A | E |\n+---+\n| e | abc | 3.4 | 1 kB | true | false | 2 | 6 | 6 |  |\n+---+\n'),
    ctx,
  );
  assert.equal(
    table,
    '+\n| ENDPOINT | ID | VERSION | DB | L | LE | T | I | A | E |\n+\n| e | <member-id> | <masked> | <masked> | true | false | 2 | <masked> | <masked> |  |\n+\n',
  );
});

test('renderRun marks stdout that lacks a final newline', () => {
  assert.equal(renderRun(['get', 'a'], result('v'), ctx), 'v\n(no newline at end of stdout)\n');
});
