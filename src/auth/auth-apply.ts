/**
 * Applying the auth requests of committed entries, and the permission checks made again when a
 * KV write is applied (etcd's authApplierV3): the proposal's header names the user and the auth
 * revision its check was made at, so a write checked before a permission was revoked is refused.
 *
 * Administration (enable, disable, user and role changes, listings) needs the root role while
 * authentication is enabled; a user may read itself (UserGet) and its own roles (RoleGet).
 */
import { Permission_Type } from '../api/gen/authpb.js';
import type * as pb from '../api/gen/etcdserverpb.js';
import { AuthStore, type AuthErrorCode, type AuthInfo } from './auth-store.js';
import type { SimpleTokens } from './simple-tokens.js';

/** The outcome of an applied auth request: its response (header for the server to fill) or a refusal. */
export type AuthApplyOutcome = { readonly resp: { header?: pb.ResponseHeader } } | { readonly code: AuthErrorCode };

/** The keys attached to a lease (the lessor, seen from here). */
export interface LeaseKeys {
  /** Keys of lease `id` as latin1 strings of their bytes; undefined when it does not exist. */
  keysOf(id: bigint): readonly string[] | undefined;
}

const NO_USER: AuthInfo = { username: '', authRevision: 0 };
const READ = Permission_Type.READ;
const WRITE = Permission_Type.WRITE;

function infoOf(r: pb.InternalRaftRequest): AuthInfo {
  const h = r.header;
  return h === undefined ? NO_USER : { username: h.username, authRevision: h.authRevision };
}

function header(): pb.ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
}

const utf8 = new TextEncoder();

/** The bytes of a key kept as a latin1 string (one char per byte). */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Whether `r` is one of the auth requests applyAuth handles. */
export function isAuthRequest(r: pb.InternalRaftRequest): boolean {
  return (
    r.authEnable !== undefined ||
    r.authDisable !== undefined ||
    r.authenticate !== undefined ||
    r.authUserAdd !== undefined ||
    r.authUserDelete !== undefined ||
    r.authUserGet !== undefined ||
    r.authUserChangePassword !== undefined ||
    r.authUserGrantRole !== undefined ||
    r.authUserRevokeRole !== undefined ||
    r.authUserList !== undefined ||
    r.authRoleList !== undefined ||
    r.authRoleAdd !== undefined ||
    r.authRoleDelete !== undefined ||
    r.authRoleGet !== undefined ||
    r.authRoleGrantPermission !== undefined ||
    r.authRoleRevokePermission !== undefined
  );
}

/** Whether applying `r` needs the root role while authentication is enabled (etcd's needAdminPermission). */
function needsAdmin(r: pb.InternalRaftRequest): boolean {
  return (
    r.authEnable !== undefined ||
    r.authDisable !== undefined ||
    r.authUserAdd !== undefined ||
    r.authUserDelete !== undefined ||
    r.authUserChangePassword !== undefined ||
    r.authUserGrantRole !== undefined ||
    r.authUserRevokeRole !== undefined ||
    r.authRoleAdd !== undefined ||
    r.authRoleGrantPermission !== undefined ||
    r.authRoleRevokePermission !== undefined ||
    r.authRoleDelete !== undefined ||
    r.authUserList !== undefined ||
    r.authRoleList !== undefined
  );
}

/** Where an applied Authenticate is: its raft index (in the token) and the member's clock (the token's life). */
export interface AuthApplyContext {
  readonly index: number;
  readonly now: number;
}

function done(code: AuthErrorCode | undefined, resp: { header?: pb.ResponseHeader } = { header: header() }): AuthApplyOutcome {
  return code === undefined ? { resp } : { code };
}

/**
 * Applies the auth request in `r` (undefined when `r` holds none). Tokens of deleted users and
 * changed passwords are forgotten; disabling authentication forgets every token.
 */
export function applyAuth(store: AuthStore, tokens: SimpleTokens, r: pb.InternalRaftRequest, ctx: AuthApplyContext): AuthApplyOutcome | undefined {
  if (!isAuthRequest(r)) return undefined;
  const info = infoOf(r);
  if (needsAdmin(r)) {
    const denied = store.isAdminPermitted(info);
    if (denied !== undefined) return { code: denied };
  }
  if (r.authEnable !== undefined) return done(store.enable());
  if (r.authDisable !== undefined) {
    store.disable();
    tokens.clear();
    return done(undefined);
  }
  if (r.authenticate !== undefined) {
    const a = r.authenticate;
    // The password was checked by the proposing member; here only what may have changed since.
    if (!store.enabled) return { code: 'auth-not-enabled' };
    const u = store.user(a.name);
    if (u === undefined || u.options?.noPassword === true) return { code: 'auth-failed' };
    // Sweeping here bounds the tokens kept by those made within one TTL, without a timer.
    tokens.expire(ctx.now);
    const token = tokens.assign(a.simpleToken, ctx.index, a.name, ctx.now);
    const resp: pb.AuthenticateResponse = { header: header(), token };
    return { resp };
  }
  if (r.authUserAdd !== undefined) {
    const u = r.authUserAdd;
    return done(store.userAdd(u.name, utf8.encode(u.password), u.options?.noPassword === true));
  }
  if (r.authUserDelete !== undefined) {
    const code = store.userDelete(r.authUserDelete.name);
    if (code === undefined) tokens.invalidateUser(r.authUserDelete.name);
    return done(code);
  }
  if (r.authUserChangePassword !== undefined) {
    const c = r.authUserChangePassword;
    const code = store.userChangePassword(c.name, utf8.encode(c.password));
    if (code === undefined) tokens.invalidateUser(c.name);
    return done(code);
  }
  if (r.authUserGrantRole !== undefined) return done(store.userGrantRole(r.authUserGrantRole.user, r.authUserGrantRole.role));
  if (r.authUserRevokeRole !== undefined) return done(store.userRevokeRole(r.authUserRevokeRole.name, r.authUserRevokeRole.role));
  if (r.authUserGet !== undefined) {
    const name = r.authUserGet.name;
    const denied = store.isAdminPermitted(info);
    if (denied !== undefined && name !== info.username) return { code: denied };
    const out = store.userGet(name);
    if (!out.ok) return { code: out.code };
    const resp: pb.AuthUserGetResponse = { header: header(), roles: out.roles };
    return { resp };
  }
  if (r.authUserList !== undefined) {
    const resp: pb.AuthUserListResponse = { header: header(), users: store.userList() };
    return { resp };
  }
  if (r.authRoleAdd !== undefined) return done(store.roleAdd(r.authRoleAdd.name));
  if (r.authRoleDelete !== undefined) return done(store.roleDelete(r.authRoleDelete.role));
  if (r.authRoleGet !== undefined) {
    const role = r.authRoleGet.role;
    const denied = store.isAdminPermitted(info);
    if (denied !== undefined && !store.hasRole(info.username, role)) return { code: denied };
    const out = store.roleGet(role);
    if (!out.ok) return { code: out.code };
    const resp: pb.AuthRoleGetResponse = { header: header(), perm: out.perms };
    return { resp };
  }
  if (r.authRoleList !== undefined) {
    const resp: pb.AuthRoleListResponse = { header: header(), roles: store.roleList() };
    return { resp };
  }
  if (r.authRoleGrantPermission !== undefined) {
    const g = r.authRoleGrantPermission;
    const perm = g.perm ?? { permType: Permission_Type.READ, key: new Uint8Array(0), rangeEnd: new Uint8Array(0) };
    return done(store.roleGrantPermission(g.name, perm));
  }
  const rv = r.authRoleRevokePermission!;
  return done(store.roleRevokePermission(rv.role, rv.key, rv.rangeEnd));
}

/** The read and write checks of a txn's compares and operations (etcd's checkTxnAuth), nested txns included. */
export function checkTxnPermitted(store: AuthStore, info: AuthInfo, txn: pb.TxnRequest): AuthErrorCode | undefined {
  for (const c of txn.compare) {
    const denied = store.isOpPermitted(info, c.key, c.rangeEnd, READ);
    if (denied !== undefined) return denied;
  }
  return checkOps(store, info, txn.success) ?? checkOps(store, info, txn.failure);
}

function checkOps(store: AuthStore, info: AuthInfo, ops: readonly pb.RequestOp[]): AuthErrorCode | undefined {
  for (const op of ops) {
    let denied: AuthErrorCode | undefined;
    if (op.requestRange !== undefined) denied = store.isOpPermitted(info, op.requestRange.key, op.requestRange.rangeEnd, READ);
    else if (op.requestPut !== undefined) denied = store.isOpPermitted(info, op.requestPut.key, undefined, WRITE);
    else if (op.requestDeleteRange !== undefined) {
      const d = op.requestDeleteRange;
      if (d.prevKv) denied = store.isOpPermitted(info, d.key, d.rangeEnd, READ);
      denied ??= store.isOpPermitted(info, d.key, d.rangeEnd, WRITE);
    } else if (op.requestTxn !== undefined) denied = checkTxnPermitted(store, info, op.requestTxn);
    if (denied !== undefined) return denied;
  }
  return undefined;
}

/** Whether `info` may write every key attached to lease `id` (etcd's checkLeasePuts); a lease without keys needs nothing. */
export function checkLeaseKeys(store: AuthStore, info: AuthInfo, leases: LeaseKeys, id: bigint): AuthErrorCode | undefined {
  if (id === 0n) return undefined;
  const keys = leases.keysOf(id);
  if (keys === undefined) return undefined;
  for (const k of keys) {
    const denied = store.isOpPermitted(info, latin1Bytes(k), undefined, WRITE);
    if (denied !== undefined) return denied;
  }
  return undefined;
}

/**
 * The permission check of a KV write or lease revoke when it is applied (call only while
 * authentication is enabled). A lease revoke without a user is the leader's own expiry and is let
 * through; a client's revoke without a user was refused before it was proposed.
 */
export function checkApplyPermitted(store: AuthStore, r: pb.InternalRaftRequest, leases: LeaseKeys): AuthErrorCode | undefined {
  if (r.put !== undefined) {
    const info = infoOf(r);
    const p = r.put;
    return (
      store.isOpPermitted(info, p.key, undefined, WRITE) ??
      checkLeaseKeys(store, info, leases, p.lease) ??
      (p.prevKv ? store.isOpPermitted(info, p.key, undefined, READ) : undefined)
    );
  }
  if (r.deleteRange !== undefined) {
    const info = infoOf(r);
    const d = r.deleteRange;
    return store.isOpPermitted(info, d.key, d.rangeEnd, WRITE) ?? (d.prevKv ? store.isOpPermitted(info, d.key, d.rangeEnd, READ) : undefined);
  }
  if (r.txn !== undefined) return checkTxnPermitted(store, infoOf(r), r.txn);
  if (r.range !== undefined) return store.isOpPermitted(infoOf(r), r.range.key, r.range.rangeEnd, READ);
  if (r.leaseRevoke !== undefined) {
    const info = infoOf(r);
    if (info.authRevision === 0) return undefined;
    return checkLeaseKeys(store, info, leases, r.leaseRevoke.ID);
  }
  return undefined;
}
