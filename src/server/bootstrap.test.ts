import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { Metadata } from '../api/gen/etcdserverpb.js';
import { EntryType } from '../api/raftpb/types.js';
import { Wal } from '../wal/index.js';
import { unmarshalConfChange } from '../raft/index.js';
import { initialMembers, openMember } from './bootstrap.js';
import { computeClusterId } from './config/ids.js';
import { dataDirLayout } from './data-dir.js';
import { memberFromJson } from './member.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

const threeMembers = [
  '--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380',
  '--initial-advertise-peer-urls=http://10.0.0.2:2380',
  '--initial-cluster-token=tok',
];

test('a new member lays out its data dir as etcd and bootstraps one committed AddNode per member, with its JSON', async () => {
  const dir = freshDir();
  const cfg = testConfig(dir, threeMembers, 'b');
  const boot = await openMember(cfg, quietLogger());
  const members = initialMembers(cfg);
  try {
    assert.equal(boot.isNew, true);
    assert.equal(boot.memberId, members.find((m) => m.name === 'b')!.id);
    assert.equal(boot.clusterId, computeClusterId(members.map((m) => m.id)));
    const layout = dataDirLayout(cfg);
    assert.equal(layout.backendPath, `${dir}/member/snap/db`);
    assert.ok(existsSync(layout.backendPath));
    assert.equal(boot.storage.lastIndex(), 3);
    assert.deepEqual(boot.storage.hardState, { term: 1, vote: 0n, commit: 3 });
    const ents = boot.storage.entries(1, 4, Infinity);
    assert.ok(Array.isArray(ents));
    const added = ents.map((e) => {
      assert.equal(e.type, EntryType.EntryConfChange);
      const cc = unmarshalConfChange(e.data);
      const { member } = memberFromJson(new TextDecoder().decode(cc.context));
      assert.equal(member.id, cc.nodeId);
      return member;
    });
    assert.deepEqual(added, members);
  } finally {
    await boot.wal.close();
    await boot.backend.close();
  }
  // The WAL holds the IDs and the bootstrap entries.
  const wal = await Wal.open(dataDirLayout(cfg).walDir, { index: 0, term: 0 });
  const read = await wal.readAll();
  await wal.close();
  assert.deepEqual(Metadata.decode(read.metadata), { NodeID: boot.memberId, ClusterID: boot.clusterId });
  assert.equal(read.entries.length, 3);
});

test('a restart reads the state back; a data dir of another member fails fast with a clear message', async () => {
  const dir = freshDir();
  const first = await openMember(testConfig(dir), quietLogger());
  await first.wal.close();
  await first.backend.close();
  const again = await openMember(testConfig(dir), quietLogger());
  assert.equal(again.isNew, false);
  assert.equal(again.memberId, first.memberId);
  assert.equal(again.storage.lastIndex(), 1);
  await again.wal.close();
  await again.backend.close();
  await assert.rejects(
    openMember(testConfig(dir, ['--initial-advertise-peer-urls=http://127.0.0.1:2999', '--initial-cluster=test=http://127.0.0.1:2999']), quietLogger()),
    /data dir .* belongs to member [0-9a-f]+ of cluster [0-9a-f]+, but --initial-advertise-peer-urls=http:\/\/127.0.0.1:2999 .* describes member/,
  );
});

test('a configuration without this member, or with other peer URLs for it, is refused', async () => {
  await assert.rejects(openMember(testConfig(freshDir(), threeMembers, 'd'), quietLogger()), /couldn't find local name "d"/);
  await assert.rejects(
    openMember(testConfig(freshDir(), [...threeMembers.slice(0, 1), '--initial-advertise-peer-urls=http://10.0.0.9:2380'], 'b'), quietLogger()),
    /--initial-cluster has b=http:\/\/10.0.0.2:2380 but missing from --initial-advertise-peer-urls=http:\/\/10.0.0.9:2380/,
  );
  await assert.rejects(openMember(testConfig(freshDir(), ['--initial-cluster-state=existing']), quietLogger()), /could not retrieve cluster information/);
});
