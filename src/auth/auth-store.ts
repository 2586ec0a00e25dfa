/**
 * The auth store (etcd's auth.authStore): users, roles, their key permissions, whether
 * authentication is enabled, and the auth revision, which every change to users or roles bumps
 * so that a permission checked against an older revision is checked again.
 *
 * Kept in the backend as etcd keeps it: bucket `auth` holds `authEnabled` (one byte, 1 or 0) and
 * `authRevision` (8 bytes big-endian); buckets `authUsers` and `authRoles` hold the encoded
 * authpb.User and authpb.Role by name. Every change goes into the backend's open batch, so it
 * commits with the apply batch (and its consistent index) that made it; the maps here mirror the
 * buckets.
 *
 * Synchronous and deterministic. Passwords arrive already hashed (the proposing member hashes them
 * before the proposal, as etcd 3.5 does), so applying stays fast and the same on every member.
 * Outcomes a client may cause are returned as catalogue codes, never thrown.
 */
import { Permission_Type, Role, User, type Permission } from '../api/gen/authpb.js';
import type { RpcErrorCode } from '../api/rpctypes/index.js';
import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { RangePermissions } from './range-permissions.js';
import { bytesEqual, compareBytes } from '../pkg/bytes.js';

/** etcd's name of the user and the role that may do anything. */
export const ROOT = 'root';

const ENABLED_KEY = new TextEncoder().encode('authEnabled');
const REVISION_KEY = new TextEncoder().encode('authRevision');
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A refusal, as its catalogue code. */
export type AuthErrorCode = Extract<
  RpcErrorCode,
  | 'user-empty'
  | 'user-not-found'
  | 'user-already-exist'
  | 'role-empty'
  | 'role-not-found'
  | 'role-already-exist'
  | 'role-not-granted'
  | 'permission-not-granted'
  | 'permission-denied'
  | 'root-user-not-exist'
  | 'root-role-not-exist'
  | 'invalid-auth-mgmt'
  | 'auth-not-enabled'
  | 'auth-failed'
  | 'auth-old-revision'
>;

/** Who made a request, as its proposal header says (etcd's AuthInfo). */
export interface AuthInfo {
  readonly username: string;
  /** The auth revision the request was checked at; 0: no user was given. */
  readonly authRevision: number;
}

function encodeRevision(rev: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(rev));
  return out;
}

/** Users, roles and permissions; see the file comment. */
export class AuthStore {
  private backend!: Backend;
  private authBucket!: Bucket;
  private usersBucket!: Bucket;
  private rolesBucket!: Bucket;
  private readonly users = new Map<string, User>();
  private readonly roles = new Map<string, Role>();
  /** Merged permissions by user name, built on first use; dropped when users or roles change. */
  private readonly permCache = new Map<string, RangePermissions>();
  private enabledFlag = false;
  private rev = 0;

  /** Loads the auth state kept in `backend` (empty when it has none). */
  constructor(backend: Backend) {
    this.recover(backend);
  }

  /** Reloads everything from `backend` (after a snapshot replaced it). */
  recover(backend: Backend): void {
    this.backend = backend;
    this.authBucket = backend.bucket('auth');
    this.usersBucket = backend.bucket('authUsers');
    this.rolesBucket = backend.bucket('authRoles');
    this.users.clear();
    this.roles.clear();
    this.permCache.clear();
    backend.forEach(this.usersBucket, EMPTY, undefined, (_k, v) => {
      const u = User.decode(v);
      this.users.set(fromUtf8.decode(u.name), u);
    });
    backend.forEach(this.rolesBucket, EMPTY, undefined, (_k, v) => {
      const r = Role.decode(v);
      this.roles.set(fromUtf8.decode(r.name), r);
    });
    const flag = backend.get(this.authBucket, ENABLED_KEY);
    this.enabledFlag = flag !== undefined && flag.length === 1 && flag[0] === 1;
    const rev = backend.get(this.authBucket, REVISION_KEY);
    this.rev = rev !== undefined && rev.length === 8 ? Number(new DataView(rev.buffer, rev.byteOffset, 8).getBigUint64(0)) : 0;
  }

  /** Whether authentication is enabled. */
  get enabled(): boolean {
    return this.enabledFlag;
  }

  /** The auth revision: bumped by every change of users, roles or permissions. */
  get revision(): number {
    return this.rev;
  }

  private commitRevision(): void {
    this.rev++;
    this.backend.batchTx.put(this.authBucket, REVISION_KEY, encodeRevision(this.rev));
  }

  private putUser(u: User): void {
    const name = fromUtf8.decode(u.name);
    this.users.set(name, u);
    this.backend.batchTx.put(this.usersBucket, u.name, User.encode(u));
  }

  private putRole(r: Role): void {
    this.roles.set(fromUtf8.decode(r.name), r);
    this.backend.batchTx.put(this.rolesBucket, r.name, Role.encode(r));
  }

  // ---- enable and disable

  /** Enables authentication: the root user must exist with the root role. Enabling twice is a no-op. */
  enable(): AuthErrorCode | undefined {
    if (this.enabledFlag) return undefined;
    const root = this.users.get(ROOT);
    if (root === undefined) return 'root-user-not-exist';
    if (!hasRootRole(root)) return 'root-role-not-exist';
    this.backend.batchTx.put(this.authBucket, ENABLED_KEY, Uint8Array.of(1));
    this.enabledFlag = true;
    this.permCache.clear();
    return undefined;
  }

  /** Disables authentication (the auth revision stays). */
  disable(): void {
    if (!this.enabledFlag) return;
    this.backend.batchTx.put(this.authBucket, ENABLED_KEY, Uint8Array.of(0));
    this.enabledFlag = false;
  }

  // ---- users

  /** The user named `name`, if any (owned by the store: do not change it). */
  user(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Adds a user with an already hashed password (empty with `noPassword`). */
  userAdd(name: string, hashedPassword: Uint8Array, noPassword: boolean): AuthErrorCode | undefined {
    if (name.length === 0) return 'user-empty';
    if (this.users.has(name)) return 'user-already-exist';
    this.putUser({ name: utf8.encode(name), password: noPassword ? EMPTY : hashedPassword, roles: [], options: { noPassword } });
    this.commitRevision();
    return undefined;
  }

  /** Deletes a user; root cannot be deleted while authentication is enabled. */
  userDelete(name: string): AuthErrorCode | undefined {
    if (this.enabledFlag && name === ROOT) return 'invalid-auth-mgmt';
    const u = this.users.get(name);
    if (u === undefined) return 'user-not-found';
    this.users.delete(name);
    this.backend.batchTx.delete(this.usersBucket, u.name);
    this.permCache.delete(name);
    this.commitRevision();
    return undefined;
  }

  /** Replaces a user's password hash. */
  userChangePassword(name: string, hashedPassword: Uint8Array): AuthErrorCode | undefined {
    const u = this.users.get(name);
    if (u === undefined) return 'user-not-found';
    this.putUser({ ...u, password: hashedPassword });
    this.permCache.delete(name);
    this.commitRevision();
    return undefined;
  }

  /** Grants `role` to `name` (the root role needs no role record); granting twice is a no-op. */
  userGrantRole(name: string, role: string): AuthErrorCode | undefined {
    const u = this.users.get(name);
    if (u === undefined) return 'user-not-found';
    if (role !== ROOT && !this.roles.has(role)) return 'role-not-found';
    if (u.roles.includes(role)) return undefined;
    // etcd keeps the roles sorted (Go's sort.Strings: byte order).
    const roles = [...u.roles, role].sort(compareStrings);
    this.putUser({ ...u, roles });
    this.permCache.delete(name);
    this.commitRevision();
    return undefined;
  }

  /** Revokes `role` from `name`; root keeps the root role while authentication is enabled. */
  userRevokeRole(name: string, role: string): AuthErrorCode | undefined {
    if (this.enabledFlag && name === ROOT && role === ROOT) return 'invalid-auth-mgmt';
    const u = this.users.get(name);
    if (u === undefined) return 'user-not-found';
    const roles = u.roles.filter((r) => r !== role);
    if (roles.length === u.roles.length) return 'role-not-granted';
    this.putUser({ ...u, roles });
    this.permCache.delete(name);
    this.commitRevision();
    return undefined;
  }

  /** The roles of `name`. */
  userGet(name: string): { ok: true; roles: string[] } | { ok: false; code: AuthErrorCode } {
    const u = this.users.get(name);
    if (u === undefined) return { ok: false, code: 'user-not-found' };
    return { ok: true, roles: [...u.roles] };
  }

  /** Every user name, in byte order (as etcd's bucket scan yields them). */
  userList(): string[] {
    return [...this.users.keys()].sort(compareStrings);
  }

  // ---- roles

  /** Adds an empty role. */
  roleAdd(name: string): AuthErrorCode | undefined {
    if (name.length === 0) return 'role-empty';
    if (this.roles.has(name)) return 'role-already-exist';
    this.putRole({ name: utf8.encode(name), keyPermission: [] });
    this.commitRevision();
    return undefined;
  }

  /** Deletes a role and revokes it from every user; root cannot be deleted while authentication is enabled. */
  roleDelete(name: string): AuthErrorCode | undefined {
    if (this.enabledFlag && name === ROOT) return 'invalid-auth-mgmt';
    const r = this.roles.get(name);
    if (r === undefined) return 'role-not-found';
    this.roles.delete(name);
    this.backend.batchTx.delete(this.rolesBucket, r.name);
    for (const u of [...this.users.values()]) {
      const roles = u.roles.filter((x) => x !== name);
      if (roles.length !== u.roles.length) this.putUser({ ...u, roles });
    }
    this.permCache.clear();
    this.commitRevision();
    return undefined;
  }

  /** The permissions of a role. */
  roleGet(name: string): { ok: true; perms: Permission[] } | { ok: false; code: AuthErrorCode } {
    const r = this.roles.get(name);
    if (r === undefined) return { ok: false, code: 'role-not-found' };
    return { ok: true, perms: r.keyPermission.map((p) => ({ ...p })) };
  }

  /** Every role name, in byte order. */
  roleList(): string[] {
    return [...this.roles.keys()].sort(compareStrings);
  }

  /**
   * Grants a permission to a role. A permission with the same key and range end as the first one
   * at that key changes its type; otherwise it is added, kept sorted by key (etcd's permSlice).
   */
  roleGrantPermission(name: string, perm: Permission): AuthErrorCode | undefined {
    const r = this.roles.get(name);
    if (r === undefined) return 'role-not-found';
    const perms = r.keyPermission.map((p) => ({ ...p }));
    const idx = perms.findIndex((p) => compareBytes(p.key, perm.key) >= 0);
    const at = idx < 0 ? undefined : perms[idx];
    if (at !== undefined && bytesEqual(at.key, perm.key) && bytesEqual(at.rangeEnd, perm.rangeEnd)) {
      at.permType = perm.permType;
    } else {
      perms.push({ permType: perm.permType, key: perm.key, rangeEnd: perm.rangeEnd });
      // Stable: permissions with equal keys keep their order.
      perms.sort((a, b) => compareBytes(a.key, b.key));
    }
    this.putRole({ ...r, keyPermission: perms });
    this.permCache.clear();
    this.commitRevision();
    return undefined;
  }

  /** Revokes the permission on exactly [key, rangeEnd) from a role. */
  roleRevokePermission(name: string, key: Uint8Array, rangeEnd: Uint8Array): AuthErrorCode | undefined {
    const r = this.roles.get(name);
    if (r === undefined) return 'role-not-found';
    const perms = r.keyPermission.filter((p) => !bytesEqual(p.key, key) || !bytesEqual(p.rangeEnd, rangeEnd));
    if (perms.length === r.keyPermission.length) return 'permission-not-granted';
    this.putRole({ ...r, keyPermission: perms });
    this.permCache.clear();
    this.commitRevision();
    return undefined;
  }

  // ---- checks

  /** Whether user `name` has role `role`. */
  hasRole(name: string, role: string): boolean {
    return this.users.get(name)?.roles.includes(role) ?? false;
  }

  /**
   * Whether `info` may administer users and roles (etcd's IsAdminPermitted): always while
   * authentication is disabled, otherwise only a user with the root role.
   */
  isAdminPermitted(info: AuthInfo): AuthErrorCode | undefined {
    if (!this.enabledFlag) return undefined;
    if (info.username.length === 0) return 'user-empty';
    const u = this.users.get(info.username);
    if (u === undefined) return 'user-not-found';
    return hasRootRole(u) ? undefined : 'permission-denied';
  }

  /**
   * Whether `info` may read (READ) or write (WRITE) `key`, or [key, rangeEnd) when rangeEnd is
   * non-empty (etcd's isOpPermitted): no user is 'user-empty', a check made at an older auth
   * revision is 'auth-old-revision' (the caller checks again), the root role may do anything.
   */
  isOpPermitted(info: AuthInfo, key: Uint8Array, rangeEnd: Uint8Array | undefined, type: Permission_Type.READ | Permission_Type.WRITE): AuthErrorCode | undefined {
    if (!this.enabledFlag) return undefined;
    if (info.authRevision === 0) return 'user-empty';
    if (info.authRevision < this.rev) return 'auth-old-revision';
    const u = this.users.get(info.username);
    if (u === undefined) return 'permission-denied';
    if (hasRootRole(u)) return undefined;
    return this.permissionsOf(u).permits(type, key, rangeEnd) ? undefined : 'permission-denied';
  }

  private permissionsOf(u: User): RangePermissions {
    const name = fromUtf8.decode(u.name);
    let perms = this.permCache.get(name);
    if (perms === undefined) {
      const all: Permission[] = [];
      for (const role of u.roles) {
        const r = this.roles.get(role);
        if (r !== undefined) all.push(...r.keyPermission);
      }
      perms = RangePermissions.of(all);
      this.permCache.set(name, perms);
    }
    return perms;
  }
}

/** Whether a user has the root role. */
export function hasRootRole(u: User): boolean {
  return u.roles.includes(ROOT);
}

/** Go's string order (UTF-8 bytes), which etcd's sorted role and user lists follow. */
function compareStrings(a: string, b: string): number {
  return compareBytes(utf8.encode(a), utf8.encode(b));
}
