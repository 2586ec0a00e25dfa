import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRangeRequest } from '../api/gen/etcdserverpb.js';
import { Backend } from '../backend/backend.js';
import { dataDirLayout } from './data-dir.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const self = new URL(import.meta.url).pathname;
const childPath = join(dirname(self), self.endsWith('.ts') ? 'crash-child.ts' : 'crash-child.js');

/** Runs crash-child to the failpoint; resolves to its output once it died. */
function crashAt(dir: string, puts: number, failpoint: string): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, childPath, dir, String(puts), failpoint], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (_code, signal) => resolve({ out, signal }));
  });
}

const dec = new TextDecoder();

for (const failpoint of ['after-save', 'before-apply', 'before-commit', 'after-commit']) {
  test(`killed at ${failpoint}, a restart replays the WAL exactly once: every key once, the revision exact`, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const puts = 30;
    const { out, signal } = await crashAt(dir, puts, failpoint);
    assert.equal(signal, 'SIGKILL', `child output:\n${out}`);
    // Replies go out once applied, before the backend commit: after-commit may follow the ack.
    assert.match(out, /armed\n(survived\n)?$/);

    // The backend already holds most puts: replay must skip those and apply only the rest.
    const backend = Backend.open({ path: dataDirLayout(testConfig(dir)).backendPath });
    const ci = backend.consistentIndex();
    await backend.close();
    assert.ok(ci > puts, `consistent index ${ci} should cover the acknowledged puts`);

    const s = await EtcdServer.start(testConfig(dir), quietLogger());
    try {
      await s.readyNotify();
      const all = await s.range(createRangeRequest({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }));
      // The interrupted put was fsynced to the WAL before the kill: it is committed and replays.
      assert.equal(all.header!.revision, 1 + puts + 1);
      assert.equal(all.count, puts + 1);
      for (const kv of all.kvs) {
        assert.equal(kv.version, 1, `${dec.decode(kv.key)} applied more than once`);
        assert.equal(kv.createRevision, kv.modRevision);
      }
      const last = all.kvs.find((kv) => dec.decode(kv.key) === 'last');
      assert.equal(last?.modRevision, puts + 2);
      const k7 = all.kvs.find((kv) => dec.decode(kv.key) === 'key7');
      assert.equal(dec.decode(k7!.value), 'value7');
      assert.equal(k7!.modRevision, 9);
    } finally {
      await s.stop();
    }
  });
}
