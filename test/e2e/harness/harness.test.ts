import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { realEtcdSkipReason } from './binaries.js';
import { startCluster, type Cluster } from './cluster.js';
import { etcdctl } from './etcdctl.js';
import { clusterIdOf, memberIdOf } from './member-id.js';
import { startMember, type Member } from './member.js';
import { liveProcessCount } from './reaper.js';

const skip = realEtcdSkipReason();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('memberIdOf and clusterIdOf reproduce the IDs etcd printed for a known member', () => {
  // Observed from etcd 3.4.23 started with this peer URL and token.
  const id = memberIdOf(['http://127.0.0.1:23801'], 'tok');
  assert.equal(id.toString(16), '4036b1db24775ea0');
  assert.equal(clusterIdOf([id]), 2478302587001825083n);
});

describe('harness against real etcd', { skip }, () => {
  const started: Member[] = [];
  let cluster: Cluster | undefined;
  after(async () => {
    await Promise.all(started.map((m) => m.destroy()));
    await cluster?.destroy();
  });

  test('a started member serves etcdctl and reports the predicted member and cluster IDs', async () => {
    const m = await startMember('etcd', { name: 'h1', initialClusterToken: 'tok-h1' });
    started.push(m);
    assert.equal((await etcdctl(m.endpoint, ['put', 'k', 'v'])).stdout, 'OK\n');
    const list = await etcdctl(m.endpoint, ['member', 'list', '-w', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const parsed = JSON.parse(list.stdout) as { header: { cluster_id: number } };
    assert.match(list.stdout, new RegExp(`"ID":${m.expectedId}\\b`));
    assert.match(list.stdout, new RegExp(`"cluster_id":${clusterIdOf([m.expectedId])}\\b`));
    assert.ok(parsed.header.cluster_id > 0);
  });

  test('kill9 then restart keeps the data; sigstop freezes answers until sigcont', async () => {
    const m = await startMember('etcd', { name: 'h2' });
    started.push(m);
    await etcdctl(m.endpoint, ['put', 'durable', 'yes']);
    const pid = m.pid!;
    const status = await m.kill9();
    assert.equal(status?.signal, 'SIGKILL');
    assert.equal(isAlive(pid), false);
    await m.restart();
    assert.equal((await etcdctl(m.endpoint, ['get', 'durable', '--print-value-only'])).stdout, 'yes\n');

    m.sigstop();
    const frozen = await etcdctl(m.endpoint, ['--command-timeout=500ms', 'get', 'durable']);
    assert.notEqual(frozen.code, 0);
    assert.match(frozen.stderr, /context deadline exceeded/);
    m.sigcont();
    assert.equal((await etcdctl(m.endpoint, ['get', 'durable', '--print-value-only'])).stdout, 'yes\n');

    const stopped = await m.stop();
    assert.equal(m.running, false);
    assert.ok(stopped?.code === 0 || stopped?.signal === 'SIGTERM', JSON.stringify(stopped));
  });

  test('a member that cannot start fails fast with its log tail, leaving no process', async () => {
    const before = liveProcessCount();
    await assert.rejects(
      startMember('etcd', { name: 'bad', extraArgs: ['--no-such-flag=1'] }),
      /exited with code \d+ before it was ready[\s\S]*no-such-flag/,
    );
    assert.equal(liveProcessCount(), before);
  });

  test('a three-member cluster elects a leader, replicates, and has the predicted IDs', async () => {
    cluster = await startCluster('etcd', 3, { token: 'tok-3' });
    const [a, b, c] = cluster.members;
    assert.equal((await etcdctl(a!.endpoint, ['put', 'x', '1'])).code, 0);
    const got = await etcdctl(c!.endpoint, ['get', 'x', '--print-value-only']);
    assert.equal(got.stdout, '1\n');
    const list = await etcdctl(b!.endpoint, ['member', 'list']);
    const ids = list.stdout.trim().split('\n').map((l) => l.split(', ')[0]).sort();
    assert.deepEqual(ids, cluster.members.map((m) => m.expectedId.toString(16)).sort());
    const status = await etcdctl(cluster.endpoints, ['endpoint', 'status', '-w', 'json']);
    assert.match(status.stdout, new RegExp(`"cluster_id":${cluster.expectedClusterId}\\b`));
    await cluster.destroy();
    assert.ok(cluster.members.every((m) => !m.running));
  });

  test('members die with the test process even when it is SIGKILLed', async () => {
    // A child process starts a member through the harness, prints its pid, and is killed -9.
    const memberModule = new URL('./member.js', import.meta.url).href;
    const program = `
      const { startMember } = await import(${JSON.stringify(memberModule)});
      const m = await startMember('etcd', { name: 'orphan' });
      process.stdout.write(m.pid + ' ' + m.workDir + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', program], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [pid, workDir] = await new Promise<[number, string]>((resolvePid, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const [p, dir] = out.trim().split(' ');
        if (out.includes('\n')) resolvePid([Number(p), dir!]);
      });
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    assert.ok(isAlive(pid));
    child.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    assert.equal(isAlive(pid), false, `member ${pid} outlived its test process`);
    rmSync(workDir, { recursive: true, force: true });
  });
});
