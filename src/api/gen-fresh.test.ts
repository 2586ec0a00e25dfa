import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceDirOf } from '../pkg/datadriven.js';

test('committed src/api/gen matches what scripts/gen-proto.mjs generates from proto/', () => {
  const apiDir = sourceDirOf(import.meta.url);
  const repo = join(apiDir, '..', '..');
  const committed = join(apiDir, 'gen');
  const fresh = mkdtempSync(join(tmpdir(), 'etcd-ts-gen-'));
  try {
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'gen-proto.mjs'), '--out', fresh], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = readdirSync(fresh).sort();
    assert.deepEqual(readdirSync(committed).filter((f) => f.endsWith('.ts')).sort(), want, 'file set differs: run `node scripts/gen-proto.mjs`');
    for (const f of want) {
      assert.ok(readFileSync(join(committed, f), 'utf8') === readFileSync(join(fresh, f), 'utf8'), `src/api/gen/${f} is stale: run \`node scripts/gen-proto.mjs\``);
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});
