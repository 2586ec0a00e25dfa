import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createPutRequest, createRangeRequest } from '../api/gen/etcdserverpb.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(): Promise<EtcdServer> {
  const dir = tempDir();
  dirs.push(dir);
  const s = await EtcdServer.start(testConfig(dir), quietLogger());
  await s.readyNotify();
  return s;
}

test('concurrent puts share WAL writes and fsyncs (group commit)', async (t) => {
  const s = await start();
  try {
    const before = { ...s.walStats };
    const readies = s.raftNode.stats.saves;
    const n = 2000;
    const clients = 100;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < n) {
          const i = next++;
          await s.put(createPutRequest({ key: enc.encode(`key${i}`), value: enc.encode(`value${i}`) }));
        }
      }),
    );
    const ms = performance.now() - started;
    const fsyncs = s.walStats.fsyncs - before.fsyncs;
    const saves = s.raftNode.stats.saves - readies;
    t.diagnostic(`${n} puts from ${clients} clients: ${Math.round((n / ms) * 1000)} puts/s, ${fsyncs} fsyncs (${(fsyncs / n).toFixed(3)} per put), ${saves} WAL saves`);
    assert.ok(fsyncs > 0);
    // 100 clients keep ~100 proposals queued while each fsync runs: far fewer fsyncs than puts.
    assert.ok(fsyncs * 5 < n, `${fsyncs} fsyncs for ${n} puts`);
    const r = await s.range(createRangeRequest({ key: enc.encode('key'), rangeEnd: enc.encode('kez'), countOnly: true }));
    assert.equal(r.count, n);
    assert.equal(r.header!.revision, 1 + n);
  } finally {
    await s.stop();
  }
});

test('a linearizable read sees every write acknowledged before it, and concurrent reads share read index rounds', async () => {
  const s = await start();
  try {
    for (let i = 0; i < 50; i++) {
      const put = await s.put(createPutRequest({ key: enc.encode('counter'), value: enc.encode(String(i)) }));
      const got = await s.range(createRangeRequest({ key: enc.encode('counter') }));
      assert.equal(new TextDecoder().decode(got.kvs[0]!.value), String(i));
      assert.ok(got.header!.revision >= put.header!.revision);
    }
    const rounds = s.readIndexRounds;
    const reads = await Promise.all(Array.from({ length: 200 }, () => s.range(createRangeRequest({ key: enc.encode('counter') }))));
    assert.ok(reads.every((r) => r.kvs[0]!.modRevision === 51));
    const used = s.readIndexRounds - rounds;
    assert.ok(used >= 1 && used <= 3, `200 concurrent reads took ${used} read index rounds`);
    // Serializable reads need no round at all.
    const before = s.readIndexRounds;
    await s.range(createRangeRequest({ key: enc.encode('counter'), serializable: true }));
    assert.equal(s.readIndexRounds, before);
  } finally {
    await s.stop();
  }
});
