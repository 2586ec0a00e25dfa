// Runs the compiled etcd-ts executable (dist/src/bin/etcd-ts.js, built by `npm run build`).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { sourceDirOf } from '../pkg/datadriven.js';
import { SERVER_VERSION } from '../server/config/version.js';
import { freePort } from './test-cluster.js';

const BIN = resolve(sourceDirOf(import.meta.url), '..', '..', 'dist', 'src', 'bin', 'etcd-ts.js');
const skip = existsSync(BIN) ? false : `${BIN} is missing: run npm run build first`;
const ETCDCTL = '/usr/bin/etcdctl';

function runBin(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an unknown flag exits 2 with Go flag\'s one-line error, as etcd does', { skip }, () => {
  const r = runBin(['--bogus']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'flag provided but not defined: -bogus\n');
  assert.equal(r.stdout, '');
});

test('a rejected configuration exits 1 with etcd\'s verification error', { skip }, () => {
  const r = runBin(['--election-timeout', '100']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "error verifying flags, --election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]. See 'etcd-ts --help'.\n");
});

test('--version prints etcd-style version lines with our name; --help lists the flags', { skip }, () => {
  const v = runBin(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, new RegExp(`^etcd-ts Version: ${SERVER_VERSION.replaceAll('.', '\\.')}\nGit SHA: .+\nNode Version: v\\d+.+\nNode OS/Arch: .+/.+\n$`));
  const h = runBin(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stderr, /^Usage:/);
  assert.match(h.stdout, /--initial-cluster-token 'etcd-cluster'/);
  assert.match(h.stdout, /--data-dir '\$\{name\}\.etcd'/);
});

test('it starts, logs its configuration as JSON lines, serves /health and /version, and stops on SIGTERM', { skip, timeout: 30000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'etcd-ts-bin-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, '--name', 'n1', '--listen-client-urls', url, '--advertise-client-urls', url, '--logger', 'zap'], {
    cwd,
    env: { PATH: process.env.PATH ?? '' },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    let version: Response | undefined;
    for (let i = 0; i < 100 && version === undefined; i++) {
      version = await fetch(`${url}/version`).catch(() => undefined);
      if (version === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(version !== undefined, `no answer on ${url}; stderr: ${stderr}`);
    const v = (await version.json()) as { etcdserver: string; etcdcluster: string };
    assert.equal(v.etcdserver, SERVER_VERSION);
    assert.ok(['not_decided', '3.4.0'].includes(v.etcdcluster), v.etcdcluster);
    // A single member elects itself and publishes itself: it becomes healthy.
    let health: Response | undefined;
    for (let i = 0; i < 100 && health?.status !== 200; i++) {
      if (health !== undefined) await new Promise((r) => setTimeout(r, 100));
      health = await fetch(`${url}/health`);
    }
    assert.equal(health?.status, 200);
    assert.equal(await health.text(), '{"health":"true"}');
    if (existsSync(ETCDCTL)) {
      // The real etcdctl reaches our gRPC server through the shared port.
      const r = spawnSync(ETCDCTL, ['--endpoints', url, '--command-timeout', '5s', 'endpoint', 'status'], { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${url}, [0-9a-f]+, ${SERVER_VERSION.replaceAll('.', '\\.')}, `));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const records = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = records.find((r) => r.msg === 'starting an etcd server');
    assert.ok(start !== undefined);
    assert.equal(start.level, 'info');
    assert.equal(start.name, 'n1');
    assert.equal(start['data-dir'], 'n1.etcd');
    assert.equal(start['initial-cluster'], 'n1=http://localhost:2380');
    assert.deepEqual(start['listen-client-urls'], [url]);
    assert.equal(start['heartbeat-interval'], '100ms');
    assert.equal(start['election-timeout'], '1s');
    assert.ok(records.some((r) => r.msg === 'received signal; shutting down' && r.signal === 'terminated'));
  } finally {
    child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
});
