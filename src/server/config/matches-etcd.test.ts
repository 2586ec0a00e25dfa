// Runs the real etcd 3.4 (Debian's /usr/bin/etcd) with command lines it rejects, and checks that
// parseConfig rejects them with the same text and exit code. Skips where etcd is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from './parse-config.js';

const ETCD = '/usr/bin/etcd';
const skip = existsSync(ETCD) ? false : `${ETCD} is not installed (apt-get install etcd-server)`;

/** etcd's message for a failed start: the flag error line, the verification error, or the fatal env conflict. */
function etcdFailure(argv: string[], env: Record<string, string>): { error: string; exitCode: number } {
  const cwd = mkdtempSync(join(tmpdir(), 'etcd-ts-vs-etcd-'));
  try {
    const r = spawnSync(ETCD, argv, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 10000 });
    const lines = r.stderr.split('\n');
    const verify = lines.find((l) => l.includes('error verifying flags, '));
    const fatal = lines.find((l) => l.includes(' C | pkg/flags: '));
    let error: string;
    if (verify !== undefined) error = verify.slice(verify.indexOf('error verifying flags, '));
    else if (fatal !== undefined) error = fatal.slice(fatal.indexOf(' C | pkg/flags: ') + ' C | pkg/flags: '.length);
    else error = lines.find((l) => !l.startsWith('[WARNING]'))!.replace(/^panic: /, '');
    return { error, exitCode: r.status ?? -1 };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

const CASES: { argv: string[]; env?: Record<string, string> }[] = [
  { argv: ['--foo'] },
  { argv: ['-foo=1'] },
  { argv: ['---name', 'x'] },
  { argv: ['--name'] },
  { argv: ['--heartbeat-interval', 'abc'] },
  { argv: ['--heartbeat-interval', '-1'] },
  { argv: ['--enable-v2=maybe'] },
  { argv: ['--initial-cluster-state', 'bogus'] },
  { argv: ['--listen-client-urls', 'foo'] },
  { argv: ['--listen-client-urls', 'http://127.0.0.1'] },
  { argv: ['--listen-client-urls', '127.0.0.1:2379'] },
  { argv: ['--listen-client-urls', 'http://a:x'] },
  { argv: ['--initial-advertise-peer-urls', 'http://127.0.0.1:1/path'] },
  { argv: ['--election-timeout', '400'] },
  { argv: ['--heartbeat-interval', '0'] },
  { argv: ['--election-timeout', '60000'] },
  { argv: ['--enable-v2', 'false'] },
  { argv: ['--', 'extra'] },
  { argv: ['--name', 'x', '--listen-client-urls', 'http://127.0.0.1:1', '--listen-peer-urls', 'http://127.0.0.1:2'] },
  { argv: ['--listen-client-urls', 'http://example.com:1', '--advertise-client-urls', 'http://a:1'] },
  { argv: ['--logger', 'foo'] },
  { argv: ['--log-outputs', 'foo'] },
  { argv: ['--log-outputs', 'stderr,stdout'] },
  { argv: ['--log-level', 'FOO'] },
  { argv: ['--auto-compaction-mode', 'foo'] },
  { argv: ['--name', 'y'], env: { ETCD_NAME: 'x' } },
  { argv: [], env: { ETCD_HEARTBEAT_INTERVAL: 'abc' } },
  { argv: [], env: { ETCD_HEARTBEAT_INTERVAL: '10', ETCD_ELECTION_TIMEOUT: '20' } },
];

test('parseConfig rejects what etcd 3.4 rejects, with its text and exit code', { skip }, () => {
  for (const { argv, env = {} } of CASES) {
    const ours = parseConfig(argv, env);
    assert.ok(!ours.ok, `${argv.join(' ')}: we accepted what etcd rejects`);
    const theirs = etcdFailure(argv, env);
    assert.deepEqual({ error: ours.error.replace("'etcd-ts --help'", "'etcd --help'"), exitCode: ours.exitCode }, theirs, argv.join(' '));
  }
});
