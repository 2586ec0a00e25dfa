import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Permission_Type } from '../api/gen/authpb.js';
import { createPutRequest, createRangeRequest } from '../api/gen/etcdserverpb.js';
import { isRpcError } from '../api/rpctypes/index.js';
import type { RequestMetadata } from './auth-api.js';
import { EtcdServer } from './etcd-server.js';
import { quietLogger, tempDir, testConfig } from './test-member.js';

const enc = new TextEncoder();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const withToken = (token: string): RequestMetadata => ({ get: (k) => (k === 'token' ? [token] : []) });
const put = (key: string): ReturnType<typeof createPutRequest> => createPutRequest({ key: enc.encode(key), value: enc.encode('v') });

async function rejects(p: Promise<unknown>, code: Parameters<typeof isRpcError>[1]): Promise<void> {
  await assert.rejects(p, (err) => isRpcError(err, code), `expected ${String(code)}`);
}

test('auth enabled through raft: tokens, permission checks on reads and writes, and the state after a restart from a snapshot', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const cfg = testConfig(dir, ['--snapshot-count=20']);
  let s = await EtcdServer.start(cfg, quietLogger());
  let token: string;
  try {
    await s.readyNotify();
    await s.auth.userAdd({ name: 'root', password: 'rootpw', options: { noPassword: false } });
    await s.auth.roleAdd({ name: 'root' });
    await s.auth.userGrantRole({ user: 'root', role: 'root' });
    await s.auth.userAdd({ name: 'u', password: 'pw', options: { noPassword: false } });
    await s.auth.roleAdd({ name: 'r' });
    await s.auth.roleGrantPermission({ name: 'r', perm: { permType: Permission_Type.READWRITE, key: enc.encode('k'), rangeEnd: enc.encode('l') } });
    await s.auth.userGrantRole({ user: 'u', role: 'r' });
    await rejects(s.auth.authenticate({ name: 'u', password: 'pw' }), 'auth-not-enabled');
    await s.auth.authEnable({});
    assert.ok(new TextDecoder().decode(s.auth.store.user('u')?.password).startsWith('$scrypt$'), 'only a hash is kept');

    await rejects(s.auth.authenticate({ name: 'u', password: 'bad' }), 'auth-failed');
    token = (await s.auth.authenticate({ name: 'u', password: 'pw' })).token;
    assert.match(token, /^[A-Za-z]{16}\.\d+$/);
    const md = withToken(token);
    await s.put(put('k1'), md);
    await rejects(s.put(put('a'), md), 'permission-denied');
    await rejects(s.put(put('k1')), 'user-empty');
    await rejects(s.put(put('k1'), withToken('bogus')), 'invalid-auth-token');
    const got = await s.range(createRangeRequest({ key: enc.encode('k'), rangeEnd: enc.encode('l') }), md);
    assert.equal(got.count, 1);
    await rejects(s.range(createRangeRequest({ key: enc.encode('a') }), md), 'permission-denied');
    await rejects(s.auth.userList({}, md), 'permission-denied');
    // Writes enough entries for a snapshot, so the restart loads from it.
    for (let i = 0; i < 30; i++) await s.put(put(`k${i}`), md);
    assert.ok(s.raftNode.snapshotIndex > 0);
  } finally {
    await s.stop();
  }

  s = await EtcdServer.start(cfg, quietLogger());
  try {
    await s.readyNotify();
    assert.equal(s.auth.enabled, true);
    await rejects(s.put(put('k1'), withToken(token)), 'invalid-auth-token');
    const md = withToken((await s.auth.authenticate({ name: 'u', password: 'pw' })).token);
    await s.put(put('k1'), md);
    await rejects(s.put(put('a'), md), 'permission-denied');
    const root = withToken((await s.auth.authenticate({ name: 'root', password: 'rootpw' })).token);
    assert.deepEqual((await s.auth.userList({}, root)).users, ['root', 'u']);
    // Changing the password ends the user's sessions.
    await s.auth.userChangePassword({ name: 'u', password: 'pw2' }, root);
    await rejects(s.put(put('k1'), md), 'invalid-auth-token');
  } finally {
    await s.stop();
  }
});
