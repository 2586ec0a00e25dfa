import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Permission_Type } from '../api/gen/authpb.js';
import type * as pb from '../api/gen/etcdserverpb.js';
import { Backend } from '../backend/backend.js';
import { applyAuth, checkApplyPermitted, type AuthApplyOutcome, type LeaseKeys } from './auth-apply.js';
import { AuthStore } from './auth-store.js';
import { SimpleTokens, simpleTokenIndex } from './simple-tokens.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const EMPTY = new Uint8Array(0);

function fixture(body: (s: AuthStore, tokens: SimpleTokens) => void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-apply-'));
    const backend = Backend.open({ path: join(dir, 'db'), unsafeNoSync: true });
    try {
      body(new AuthStore(backend), new SimpleTokens(1000));
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function as(username: string, authRevision: number, r: Omit<pb.InternalRaftRequest, 'ID'>): pb.InternalRaftRequest {
  return { ...r, ID: 0n, header: { ID: 1n, username, authRevision } };
}

function code(out: AuthApplyOutcome | undefined): string | undefined {
  assert.ok(out !== undefined);
  return 'code' in out ? out.code : undefined;
}

/** Auth enabled with root (root role) and u (role r: write [k1, k5), read z..). */
function enabled(s: AuthStore, tokens: SimpleTokens): void {
  const ctx = { index: 1, now: 0 };
  for (const r of [
    { authUserAdd: { name: 'root', password: '$h$', options: { noPassword: false } } },
    { authUserAdd: { name: 'u', password: '$h$', options: { noPassword: false } } },
    { authRoleAdd: { name: 'r' } },
    { authRoleGrantPermission: { name: 'r', perm: { permType: Permission_Type.WRITE, key: b('k1'), rangeEnd: b('k5') } } },
    { authRoleGrantPermission: { name: 'r', perm: { permType: Permission_Type.READ, key: b('z'), rangeEnd: Uint8Array.of(0) } } },
    { authUserGrantRole: { user: 'u', role: 'r' } },
    { authUserGrantRole: { user: 'root', role: 'root' } },
    { authEnable: {} },
  ]) {
    assert.equal(code(applyAuth(s, tokens, as('', 0, r), ctx)), undefined, JSON.stringify(Object.keys(r)));
  }
}

test('a non-auth request is left to other appliers', fixture((s, tokens) => {
  assert.equal(applyAuth(s, tokens, as('', 0, { put: { key: b('a'), value: EMPTY, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } }), { index: 1, now: 0 }), undefined);
}));

test('authenticate assigns <prefix>.<index> on apply; unknown users, no-password users and disabled auth are refused', fixture((s, tokens) => {
  const auth = (name: string): AuthApplyOutcome | undefined => applyAuth(s, tokens, as('', 0, { authenticate: { name, password: '', simpleToken: 'abcdefghijklmnop' } }), { index: 42, now: 0 });
  assert.equal(code(auth('u')), 'auth-not-enabled');
  enabled(s, tokens);
  const out = auth('u');
  assert.ok(out !== undefined && 'resp' in out);
  const token = (out.resp as pb.AuthenticateResponse).token;
  assert.equal(token, 'abcdefghijklmnop.42');
  assert.equal(simpleTokenIndex(token), 42);
  assert.equal(tokens.info(token, 10), 'u');
  assert.equal(code(auth('nobody')), 'auth-failed');
  // Disabling forgets every token.
  assert.equal(code(applyAuth(s, tokens, as('root', s.revision, { authDisable: {} }), { index: 43, now: 0 })), undefined);
  assert.equal(tokens.info(token, 10), undefined);
}));

test('administration is refused without a user, to a non-root user, and allowed to root', fixture((s, tokens) => {
  enabled(s, tokens);
  const ctx = { index: 9, now: 0 };
  assert.equal(code(applyAuth(s, tokens, as('', 0, { authUserList: {} }), ctx)), 'user-empty');
  assert.equal(code(applyAuth(s, tokens, as('u', s.revision, { authRoleAdd: { name: 'x' } }), ctx)), 'permission-denied');
  assert.equal(code(applyAuth(s, tokens, as('root', s.revision, { authRoleAdd: { name: 'x' } }), ctx)), undefined);
  // A user may read itself and its own roles, nothing else.
  assert.equal(code(applyAuth(s, tokens, as('u', s.revision, { authUserGet: { name: 'u' } }), ctx)), undefined);
  assert.equal(code(applyAuth(s, tokens, as('u', s.revision, { authUserGet: { name: 'root' } }), ctx)), 'permission-denied');
  assert.equal(code(applyAuth(s, tokens, as('u', s.revision, { authRoleGet: { role: 'r' } }), ctx)), undefined);
  assert.equal(code(applyAuth(s, tokens, as('u', s.revision, { authRoleGet: { role: 'root' } }), ctx)), 'permission-denied');
}));

test('deleting a user or changing its password forgets its tokens', fixture((s, tokens) => {
  enabled(s, tokens);
  const t1 = tokens.assign('aaaaaaaaaaaaaaaa', 5, 'u', 0);
  const t2 = tokens.assign('bbbbbbbbbbbbbbbb', 6, 'root', 0);
  applyAuth(s, tokens, as('root', s.revision, { authUserChangePassword: { name: 'u', password: '$new$' } }), { index: 7, now: 0 });
  assert.equal(tokens.info(t1, 1), undefined);
  assert.equal(tokens.info(t2, 1), 'root');
  assert.equal(new TextDecoder().decode(s.user('u')?.password), '$new$', 'the proposal carries the hash, stored as is');
}));

const noLeases: LeaseKeys = { keysOf: () => undefined };
const put = (key: string, lease = 0n): pb.PutRequest => ({ key: b(key), value: EMPTY, lease, prevKv: false, ignoreValue: false, ignoreLease: false });

test('writes are checked at apply against the header user and revision', fixture((s, tokens) => {
  enabled(s, tokens);
  const rev = s.revision;
  assert.equal(checkApplyPermitted(s, as('u', rev, { put: put('k2') }), noLeases), undefined);
  assert.equal(checkApplyPermitted(s, as('u', rev, { put: put('a') }), noLeases), 'permission-denied');
  assert.equal(checkApplyPermitted(s, as('', 0, { put: put('k2') }), noLeases), 'user-empty');
  assert.equal(checkApplyPermitted(s, as('u', rev - 1, { put: put('k2') }), noLeases), 'auth-old-revision');
  assert.equal(checkApplyPermitted(s, as('u', rev, { put: { ...put('k2'), prevKv: true } }), noLeases), 'permission-denied', 'prev_kv needs read');
  const del: pb.DeleteRangeRequest = { key: b('k1'), rangeEnd: b('k5'), prevKv: false };
  assert.equal(checkApplyPermitted(s, as('u', rev, { deleteRange: del }), noLeases), undefined);
  assert.equal(checkApplyPermitted(s, as('u', rev, { deleteRange: { ...del, rangeEnd: b('k6') } }), noLeases), 'permission-denied');
}));

test('txn checks compares (read), operations, and nested txns', fixture((s, tokens) => {
  enabled(s, tokens);
  const rev = s.revision;
  const txn = (t: Partial<pb.TxnRequest>): pb.InternalRaftRequest => as('u', rev, { txn: { compare: [], success: [], failure: [], ...t } });
  const cmp = (key: string): pb.Compare => ({ result: 0, target: 0, key: b(key), rangeEnd: EMPTY, version: 0, createRevision: 0, modRevision: 0, value: EMPTY, lease: 0n });
  assert.equal(checkApplyPermitted(s, txn({ compare: [cmp('z1')], success: [{ requestPut: put('k3') }] }), noLeases), undefined);
  assert.equal(checkApplyPermitted(s, txn({ compare: [cmp('k1')] }), noLeases), 'permission-denied');
  assert.equal(checkApplyPermitted(s, txn({ failure: [{ requestPut: put('a') }] }), noLeases), 'permission-denied');
  const inner: pb.TxnRequest = { compare: [], success: [{ requestPut: put('a') }], failure: [] };
  assert.equal(checkApplyPermitted(s, txn({ success: [{ requestTxn: inner }] }), noLeases), 'permission-denied');
}));

test('a lease revoke needs write on every attached key; the leader\'s own revoke (no user) passes', fixture((s, tokens) => {
  enabled(s, tokens);
  const leases: LeaseKeys = { keysOf: (id) => (id === 7n ? ['k2', 'zz'] : undefined) };
  assert.equal(checkApplyPermitted(s, as('u', s.revision, { leaseRevoke: { ID: 7n } }), leases), 'permission-denied');
  assert.equal(checkApplyPermitted(s, as('root', s.revision, { leaseRevoke: { ID: 7n } }), leases), undefined);
  assert.equal(checkApplyPermitted(s, as('', 0, { leaseRevoke: { ID: 7n } }), leases), undefined);
  assert.equal(checkApplyPermitted(s, as('u', s.revision, { put: put('k2', 7n) }), leases), 'permission-denied', 'attaching to a lease with unwritable keys');
}));

test('tokens live one TTL from their last use', () => {
  const tokens = new SimpleTokens(1000);
  const t = tokens.assign('pppppppppppppppp', 3, 'u', 0);
  assert.equal(tokens.info(t, 900), 'u');
  assert.equal(tokens.info(t, 1800), 'u', 'use extended its life');
  tokens.expire(2700);
  assert.equal(tokens.size, 1);
  tokens.expire(2800);
  assert.equal(tokens.size, 0);
  assert.equal(tokens.info(t, 2801), undefined);
  assert.equal(simpleTokenIndex('bogus'), undefined);
  assert.equal(simpleTokenIndex('a.b.1'), undefined);
  assert.equal(simpleTokenIndex('abc.x'), undefined);
});
