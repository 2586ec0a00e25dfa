import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { createPutRequest, createRangeRequest } from '../api/gen/etcdserverpb.js';
import { dataDirLayout } from './data-dir.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const files = (dir: string, suffix: string): string[] => readdirSync(dir).filter((n) => n.endsWith(suffix));

test('every --snapshot-count applied entries a snapshot is saved, old WAL segments and snapshot files go, and a restart starts from it', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const cfg = testConfig(dir, ['--snapshot-count=50', '--max-snapshots=2', '--max-wals=2']);
  const layout = dataDirLayout(cfg);
  const options = { walSegmentBytes: 64 * 1024 };
  let s = await EtcdServer.start(cfg, quietLogger(), options);
  await s.readyNotify();
  const value = new Uint8Array(1024).fill(97);
  for (let i = 0; i < 300; i++) await s.put(createPutRequest({ key: enc.encode(`key${i % 40}`), value }));
  await s.put(createPutRequest({ key: enc.encode('last'), value: enc.encode('x') }));
  const before = await s.range(createRangeRequest({ key: enc.encode('\0'), rangeEnd: enc.encode('\0') }));
  assert.ok(s.raftNode.stats.snapshots >= 5, `${s.raftNode.stats.snapshots} snapshots`);
  assert.ok(s.walStats.cuts >= 4, `${s.walStats.cuts} WAL segments cut`);
  const snapIndex = s.raftNode.snapshotIndex;
  await s.stop();

  assert.equal(files(layout.snapDir, '.snap').length, 2);
  const segments = files(layout.walDir, '.wal');
  assert.ok(segments.length <= 2, `WAL segments kept: ${segments.join(' ')}`);

  s = await EtcdServer.start(cfg, quietLogger(), options);
  try {
    assert.equal(s.raftNode.snapshotIndex, snapIndex, 'restarted from the newest snapshot');
    await s.readyNotify();
    const afterRestart = await s.range(createRangeRequest({ key: enc.encode('\0'), rangeEnd: enc.encode('\0') }));
    assert.deepEqual(afterRestart.kvs, before.kvs);
    assert.equal(afterRestart.header!.revision, 302);
    const put = await s.put(createPutRequest({ key: enc.encode('again'), value: enc.encode('y') }));
    assert.equal(put.header!.revision, 303);
  } finally {
    await s.stop();
  }
});
