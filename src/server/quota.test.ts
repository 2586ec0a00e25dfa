import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  createDeleteRangeRequest,
  createPutRequest,
  createRangeRequest,
  createTxnRequest,
} from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import { EtcdServer } from './etcd-server.js';
import { BackendQuota, costPut, costTxn, KV_OVERHEAD_BYTES } from './quota.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('costs follow etcd: key, value and overhead per put; the larger txn branch', () => {
  const put = createPutRequest({ key: enc.encode('abc'), value: new Uint8Array(10) });
  assert.equal(costPut(put), KV_OVERHEAD_BYTES + 13);
  const txn = createTxnRequest({
    success: [{ requestPut: put }, { requestPut: put }],
    failure: [{ requestPut: put }, { requestDeleteRange: createDeleteRangeRequest({ key: enc.encode('x') }) }],
  });
  assert.equal(costTxn(txn), 2 * (KV_OVERHEAD_BYTES + 13));
  let size = 1000;
  const q = new BackendQuota(2000, () => size);
  assert.equal(q.available(999), true);
  assert.equal(q.available(1000), false);
  size = 0;
  assert.equal(q.available(1999), true);
  const none = new BackendQuota(undefined, () => 1e12);
  assert.equal(none.available(1e9), true);
  assert.equal(none.costPut(put), 0);
});

test('a write past the quota raises NOSPACE; writes are refused while reads, deletes and compaction work, across a restart', async () => {
  const dir = tempDir();
  dirs.push(dir);
  // A commit per apply keeps the file size the quota sees current after every put (batched
  // commits let it lag by up to the batch interval, so the file would overshoot the quota).
  const flags = ['--quota-backend-bytes=300000', '--backend-batch-limit=1'];
  let s = await EtcdServer.start(testConfig(dir, flags), quietLogger());
  await s.readyNotify();
  const value = new Uint8Array(20_000).fill(120);
  let refused = 0;
  let stored = 0;
  for (let i = 0; i < 100 && refused === 0; i++) {
    try {
      await s.put(createPutRequest({ key: enc.encode(`k${i}`), value }));
      stored++;
    } catch (err) {
      assert.ok(isRpcError(err, 'no-space'), String(err));
      refused++;
    }
  }
  assert.equal(refused, 1, 'the backend never filled up');
  assert.ok(stored > 0);
  const alarms = await s.alarm({ action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
  assert.deepEqual(alarms.alarms, [{ memberID: s.memberId, alarm: AlarmType.NOSPACE }]);
  assert.equal(alarms.header, undefined);

  // Even a tiny put is refused now (the alarm caps writes), and so is a txn with a put.
  await assert.rejects(s.put(createPutRequest({ key: enc.encode('tiny'), value: enc.encode('1') })), (e) => isRpcError(e, 'no-space'));
  await assert.rejects(
    s.txn(createTxnRequest({ success: [{ requestPut: createPutRequest({ key: enc.encode('tiny'), value: enc.encode('1') }) }] })),
    (e) => isRpcError(e, 'no-space'),
  );
  const status = await s.status({});
  assert.deepEqual(status.errors, [`memberID:${s.memberId} alarm:NOSPACE `]);
  assert.deepEqual(await s.health(), { health: false, reason: 'ALARM NOSPACE' });
  const got = await s.range(createRangeRequest({ key: enc.encode('k0') }));
  assert.equal(got.count, 1);
  const del = await s.deleteRange(createDeleteRangeRequest({ key: enc.encode('k0') }));
  assert.equal(del.deleted, 1);
  await s.compact({ revision: del.header!.revision, physical: true });
  await s.stop();

  s = await EtcdServer.start(testConfig(dir, flags), quietLogger());
  try {
    await s.readyNotify();
    await assert.rejects(s.put(createPutRequest({ key: enc.encode('tiny'), value: enc.encode('1') })), (e) => isRpcError(e, 'no-space'));
    await s.defragment({});
    const disarmed = await s.alarm({ action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: s.memberId, alarm: AlarmType.NOSPACE });
    assert.deepEqual(disarmed.alarms, [{ memberID: s.memberId, alarm: AlarmType.NOSPACE }]);
    const put = await s.put(createPutRequest({ key: enc.encode('tiny'), value: enc.encode('1') }));
    assert.ok(put.header!.revision > 0);
    assert.deepEqual((await s.health()).health, true);
  } finally {
    await s.stop();
  }
});
