import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Permission_Type } from '../api/gen/authpb.js';
import { Backend } from '../backend/backend.js';
import { AuthStore } from './auth-store.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const HASH = b('$hash$');
const { READ, WRITE, READWRITE } = Permission_Type;

function withStore(body: (s: AuthStore, reopen: () => Promise<AuthStore>) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-store-'));
    const path = join(dir, 'db');
    let backend = Backend.open({ path, unsafeNoSync: true });
    try {
      await body(new AuthStore(backend), async () => {
        await backend.commit();
        await backend.close();
        backend = Backend.open({ path, unsafeNoSync: true });
        return new AuthStore(backend);
      });
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** root with the root role, and a user `u` with role `r` reading [a, c) and writing k. */
function populate(s: AuthStore): void {
  assert.equal(s.userAdd('root', HASH, false), undefined);
  assert.equal(s.roleAdd('root'), undefined);
  assert.equal(s.userGrantRole('root', 'root'), undefined);
  assert.equal(s.userAdd('u', HASH, false), undefined);
  assert.equal(s.roleAdd('r'), undefined);
  assert.equal(s.roleGrantPermission('r', { permType: READ, key: b('a'), rangeEnd: b('c') }), undefined);
  assert.equal(s.roleGrantPermission('r', { permType: WRITE, key: b('k'), rangeEnd: new Uint8Array(0) }), undefined);
  assert.equal(s.userGrantRole('u', 'r'), undefined);
}

test(
  'every change of users, roles or permissions bumps the auth revision; no-ops and refusals do not',
  withStore((s) => {
    assert.equal(s.revision, 0);
    assert.equal(s.userAdd('u', HASH, false), undefined);
    assert.equal(s.revision, 1);
    assert.equal(s.userAdd('u', HASH, false), 'user-already-exist');
    assert.equal(s.userAdd('', HASH, false), 'user-empty');
    assert.equal(s.roleAdd(''), 'role-empty');
    assert.equal(s.revision, 1);
    assert.equal(s.roleAdd('r'), undefined);
    assert.equal(s.userGrantRole('u', 'r'), undefined);
    assert.equal(s.revision, 3);
    assert.equal(s.userGrantRole('u', 'r'), undefined, 'granting twice is accepted');
    assert.equal(s.revision, 3, 'granting twice changes nothing');
    assert.equal(s.userGrantRole('u', 'nope'), 'role-not-found');
    assert.equal(s.userGrantRole('nobody', 'r'), 'user-not-found');
    assert.equal(s.userRevokeRole('u', 'x'), 'role-not-granted');
    assert.equal(s.roleRevokePermission('r', b('a'), new Uint8Array(0)), 'permission-not-granted');
    assert.equal(s.revision, 3);
    // enable and disable leave the revision as it is.
    assert.equal(s.enable(), 'root-user-not-exist');
    s.userAdd('root', HASH, false);
    assert.equal(s.enable(), 'root-role-not-exist');
    assert.equal(s.userGrantRole('root', 'root'), undefined, 'the root role needs no role record');
    const rev = s.revision;
    assert.equal(s.enable(), undefined);
    assert.equal(s.revision, rev);
  }),
);

test(
  'role permissions stay sorted by key, and granting the same key and range end changes its type',
  withStore((s) => {
    s.roleAdd('r');
    s.roleGrantPermission('r', { permType: READ, key: b('foo'), rangeEnd: new Uint8Array(0) });
    s.roleGrantPermission('r', { permType: READWRITE, key: b('a'), rangeEnd: b('b') });
    s.roleGrantPermission('r', { permType: READ, key: b('z'), rangeEnd: Uint8Array.of(0) });
    s.roleGrantPermission('r', { permType: WRITE, key: b('foo'), rangeEnd: new Uint8Array(0) });
    const got = s.roleGet('r');
    assert.ok(got.ok);
    assert.deepEqual(
      got.perms.map((p) => [p.permType, new TextDecoder().decode(p.key)]),
      [
        [READWRITE, 'a'],
        [WRITE, 'foo'],
        [READ, 'z'],
      ],
    );
    assert.equal(s.roleRevokePermission('r', b('a'), b('b')), undefined);
    const after = s.roleGet('r');
    assert.ok(after.ok);
    assert.equal(after.perms.length, 2);
  }),
);

test(
  'permission checks: no user, stale revision, root bypass, granted ranges, revocation',
  withStore((s) => {
    populate(s);
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: 1 }, b('a'), undefined, READ), undefined, 'disabled: everything is allowed');
    assert.equal(s.enable(), undefined);
    const rev = s.revision;
    const u = { username: 'u', authRevision: rev };
    assert.equal(s.isOpPermitted({ username: '', authRevision: 0 }, b('a'), undefined, READ), 'user-empty');
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: rev - 1 }, b('a'), undefined, READ), 'auth-old-revision');
    assert.equal(s.isOpPermitted({ username: 'root', authRevision: rev }, b('anything'), b('\0'), WRITE), undefined);
    assert.equal(s.isOpPermitted(u, b('a'), b('c'), READ), undefined);
    assert.equal(s.isOpPermitted(u, b('b'), undefined, READ), undefined);
    assert.equal(s.isOpPermitted(u, b('a'), b('d'), READ), 'permission-denied');
    assert.equal(s.isOpPermitted(u, b('b'), undefined, WRITE), 'permission-denied');
    assert.equal(s.isOpPermitted(u, b('k'), undefined, WRITE), undefined);
    assert.equal(s.isOpPermitted({ username: 'gone', authRevision: rev }, b('k'), undefined, WRITE), 'permission-denied');
    // Revoking the permission takes effect at once (the cached merge is dropped).
    assert.equal(s.roleRevokePermission('r', b('k'), new Uint8Array(0)), undefined);
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: s.revision }, b('k'), undefined, WRITE), 'permission-denied');
    // Deleting the role revokes it from its users.
    assert.equal(s.roleDelete('r'), undefined);
    assert.deepEqual(s.userGet('u'), { ok: true, roles: [] });
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: s.revision }, b('b'), undefined, READ), 'permission-denied');
  }),
);

test(
  'administration needs the root role while enabled; root cannot lose what enabling needs',
  withStore((s) => {
    populate(s);
    assert.equal(s.isAdminPermitted({ username: '', authRevision: 0 }), undefined, 'disabled: anyone administers');
    s.enable();
    assert.equal(s.isAdminPermitted({ username: '', authRevision: 0 }), 'user-empty');
    assert.equal(s.isAdminPermitted({ username: 'u', authRevision: s.revision }), 'permission-denied');
    assert.equal(s.isAdminPermitted({ username: 'nobody', authRevision: s.revision }), 'user-not-found');
    assert.equal(s.isAdminPermitted({ username: 'root', authRevision: s.revision }), undefined);
    assert.equal(s.userDelete('root'), 'invalid-auth-mgmt');
    assert.equal(s.roleDelete('root'), 'invalid-auth-mgmt');
    assert.equal(s.userRevokeRole('root', 'root'), 'invalid-auth-mgmt');
    s.disable();
    assert.equal(s.userRevokeRole('root', 'root'), undefined);
  }),
);

test(
  'users, roles, the enabled flag and the revision survive reopening the backend',
  withStore(async (s, reopen) => {
    populate(s);
    s.enable();
    const rev = s.revision;
    const again = await reopen();
    assert.equal(again.enabled, true);
    assert.equal(again.revision, rev);
    assert.deepEqual(again.userList(), ['root', 'u']);
    assert.deepEqual(again.roleList(), ['r', 'root']);
    assert.deepEqual(again.userGet('u'), { ok: true, roles: ['r'] });
    assert.deepEqual(new TextDecoder().decode(again.user('u')?.password), '$hash$');
    assert.equal(again.isOpPermitted({ username: 'u', authRevision: rev }, b('k'), undefined, WRITE), undefined);
    again.disable();
    assert.equal((await reopen()).enabled, false);
  }),
);

test('recover takes the state of another backend (a snapshot installed) and drops cached permissions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-store-'));
  const a = Backend.open({ path: join(dir, 'a'), unsafeNoSync: true });
  const other = Backend.open({ path: join(dir, 'b'), unsafeNoSync: true });
  try {
    const s = new AuthStore(a);
    populate(s);
    s.enable();
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: s.revision }, b('k'), undefined, WRITE), undefined);
    const leader = new AuthStore(other);
    populate(leader);
    leader.roleRevokePermission('r', b('k'), new Uint8Array(0));
    leader.enable();
    await other.commit();
    s.recover(other);
    assert.equal(s.enabled, true);
    assert.equal(s.revision, leader.revision);
    assert.equal(s.isOpPermitted({ username: 'u', authRevision: s.revision }, b('k'), undefined, WRITE), 'permission-denied');
  } finally {
    await a.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
