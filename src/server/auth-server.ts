/**
 * The member's side of authentication (etcd's auth layer in EtcdServer): the Auth service, whose
 * requests all go through raft; the resolution of a call's token into the user and auth revision
 * a proposal carries; the read checks made before serving ranges and read-only txns; and the
 * apply of auth entries and the write checks at apply time (see src/auth).
 *
 * Passwords are hashed (auth-password.ts) before the proposal, so the log never carries them in
 * clear. Tokens are etcd's simple tokens, per member, in memory.
 */
import { Permission_Type } from '../api/gen/authpb.js';
import type * as pb from '../api/gen/etcdserverpb.js';
import { rpcError, type RpcErrorCode } from '../api/rpctypes/index.js';
import type { Backend } from '../backend/backend.js';
import {
  applyAuth,
  AuthStore,
  checkApplyPermitted,
  checkLeaseKeys,
  checkTxnPermitted,
  SimpleTokens,
  simpleTokenIndex,
  type AuthErrorCode,
  type AuthInfo,
  type LeaseKeys,
} from '../auth/index.js';
import type { ApplyResult } from './applier.js';
import { tokenOf, type AuthApi, type RequestMetadata } from './auth-api.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword, newTokenPrefix, verifyPassword } from './auth-password.js';

/** What the auth layer needs of the member. */
export interface AuthServerDeps {
  /** The backend the auth store is kept in at start. */
  readonly backend: Backend;
  /** Proposes through raft with the call's credentials stamped into the header (see stampHeader). */
  readonly propose: (r: pb.InternalRaftRequest, md: RequestMetadata | undefined) => Promise<ApplyResult>;
  /** Fills a response header as the member fills headers. */
  readonly fill: (h: pb.ResponseHeader | undefined) => pb.ResponseHeader;
  /** Resolves once the member serves. */
  readonly whenReady: () => Promise<void>;
  /** Resolves once the local state reflects every write committed before the call. */
  readonly linearizableRead: () => Promise<void>;
  /** The keys attached to a lease. */
  readonly leases: LeaseKeys;
  /** Wall-clock ms, for the tokens' life. */
  readonly now: () => number;
  /** How long an unused token lives (--auth-token-ttl); default etcd's 5 minutes. */
  readonly tokenTtlMs?: number;
  /** The raft index this member has applied. */
  readonly appliedIndex: () => number;
}

/** How long a call waits for this member to apply the Authenticate entry its token names. */
const TOKEN_APPLY_WAIT_MS = 1000;
const TOKEN_APPLY_POLL_MS = 5;

const NO_USER: AuthInfo = { username: '', authRevision: 0 };
/** Admin refusals etcd 3.4's maintenance server sends with the auth package's own text. */
const UNMAPPED_ADMIN_REFUSALS: Partial<Record<AuthErrorCode, RpcErrorCode>> = {
  'user-empty': 'auth-user-empty-unmapped',
  'permission-denied': 'auth-permission-denied-unmapped',
  'user-not-found': 'auth-user-not-found-unmapped',
};

function refused(code: AuthErrorCode): ApplyResult {
  return { err: rpcError(code) };
}

/** The auth layer of one member; see the file comment. */
export class AuthServer implements AuthApi {
  /** The replicated auth state (reloaded when a snapshot replaces the backend). */
  readonly store: AuthStore;
  /** This member's tokens. */
  readonly tokens: SimpleTokens;

  constructor(private readonly d: AuthServerDeps) {
    this.store = new AuthStore(d.backend);
    this.tokens = new SimpleTokens(d.tokenTtlMs !== undefined && d.tokenTtlMs > 0 ? d.tokenTtlMs : undefined);
  }

  /** Whether authentication is enabled: the one check the request paths make while it is not. */
  get enabled(): boolean {
    return this.store.enabled;
  }

  /** Reloads the auth state from a backend a snapshot brought. */
  recover(backend: Backend): void {
    this.store.recover(backend);
  }

  // ---- credentials

  /**
   * The user and auth revision of a call (etcd's AuthInfoFromCtx): no token is no user; a token
   * this member does not know (malformed, expired, of a deleted user) is `invalid auth token`.
   */
  authInfo(md: RequestMetadata | undefined): AuthInfo {
    const token = tokenOf(md);
    if (token === undefined) return NO_USER;
    const username = this.tokens.info(token, this.d.now());
    if (username === undefined) throw rpcError('invalid-auth-token');
    return { username, authRevision: this.store.revision };
  }

  /**
   * authInfo, once this member has applied the Authenticate entry the call's token names: a token
   * minted through another member may be used here a moment before this member applied it
   * (etcd's isValidSimpleToken waits for the index too). Waits at most 1 s.
   */
  private async resolve(md: RequestMetadata | undefined): Promise<AuthInfo> {
    const token = tokenOf(md);
    if (token !== undefined && !this.tokens.has(token)) {
      const index = simpleTokenIndex(token);
      if (index !== undefined) {
        const deadline = this.d.now() + TOKEN_APPLY_WAIT_MS;
        while (this.d.appliedIndex() < index && this.d.now() < deadline) await sleep(TOKEN_APPLY_POLL_MS);
      }
    }
    return this.authInfo(md);
  }

  /** Writes the call's user and auth revision into a proposal's header (call only while enabled). */
  async stampHeader(h: pb.RequestHeader, md: RequestMetadata | undefined): Promise<void> {
    const info = await this.resolve(md);
    h.username = info.username;
    h.authRevision = info.authRevision;
  }

  /** Rejects unless the call may read [key, rangeEnd) (call only while enabled). */
  async checkRange(md: RequestMetadata | undefined, key: Uint8Array, rangeEnd: Uint8Array): Promise<void> {
    const denied = this.store.isOpPermitted(await this.resolve(md), key, rangeEnd, Permission_Type.READ);
    if (denied !== undefined) throw rpcError(denied);
  }

  /** Rejects unless the call may make every read and write of `txn` (call only while enabled). */
  async checkTxn(md: RequestMetadata | undefined, txn: pb.TxnRequest): Promise<void> {
    const denied = checkTxnPermitted(this.store, await this.resolve(md), txn);
    if (denied !== undefined) throw rpcError(denied);
  }

  checkLeaseRevoke(md: RequestMetadata | undefined, id: bigint): void {
    if (!this.store.enabled) return;
    // Checked here, before the proposal: applying takes a revoke without a user for the leader's own expiry.
    const denied = checkLeaseKeys(this.store, this.authInfo(md), this.d.leases, id);
    if (denied !== undefined) throw rpcError(denied);
  }

  checkAdmin(md: RequestMetadata | undefined): void {
    if (!this.store.enabled) return;
    const denied = this.store.isAdminPermitted(this.authInfo(md));
    if (denied === undefined) return;
    // etcd 3.4's maintenance server passes these on unmapped: the client sees the auth package's text.
    const unmapped = UNMAPPED_ADMIN_REFUSALS[denied];
    throw rpcError(unmapped ?? denied);
  }

  isWatchPermitted(md: RequestMetadata | undefined, key: Uint8Array, rangeEnd: Uint8Array): boolean {
    if (!this.store.enabled) return true;
    try {
      return this.store.isOpPermitted(this.authInfo(md), key, rangeEnd, Permission_Type.READ) === undefined;
    } catch {
      return false;
    }
  }

  // ---- apply

  /** The permission check of a KV write applied while enabled; undefined when permitted. */
  checkApply(r: pb.InternalRaftRequest): ApplyResult | undefined {
    const denied = checkApplyPermitted(this.store, r, this.d.leases);
    return denied === undefined ? undefined : refused(denied);
  }

  /** Applies the auth request in `r` (entry `index`); undefined when `r` holds none. */
  apply(r: pb.InternalRaftRequest, index: number): ApplyResult | undefined {
    const out = applyAuth(this.store, this.tokens, r, { index, now: this.d.now() });
    if (out === undefined) return undefined;
    return 'code' in out ? refused(out.code) : { resp: out.resp };
  }

  // ---- the Auth service

  private async run<T extends { header?: pb.ResponseHeader }>(r: pb.InternalRaftRequest, md: RequestMetadata | undefined): Promise<T> {
    await this.d.whenReady();
    const res = await this.d.propose(r, md);
    const resp = res.resp as T;
    resp.header = this.d.fill(resp.header);
    return resp;
  }

  authEnable(req: pb.AuthEnableRequest, md?: RequestMetadata): Promise<pb.AuthEnableResponse> {
    return this.run({ ID: 0n, authEnable: req }, md);
  }

  authDisable(req: pb.AuthDisableRequest, md?: RequestMetadata): Promise<pb.AuthDisableResponse> {
    return this.run({ ID: 0n, authDisable: req }, md);
  }

  /**
   * Checks the password against the current state, then proposes the token (etcd's Authenticate):
   * if users changed while the password was being checked, it is checked again.
   */
  async authenticate(req: pb.AuthenticateRequest, _md?: RequestMetadata): Promise<pb.AuthenticateResponse> {
    await this.d.whenReady();
    await this.d.linearizableRead();
    for (;;) {
      if (!this.store.enabled) throw rpcError('auth-not-enabled');
      const u = this.store.user(req.name);
      if (u === undefined) throw rpcError('auth-failed');
      if (u.options?.noPassword === true) throw rpcError('auth-no-password-user');
      const checkedAt = this.store.revision;
      if (!(await verifyPassword(u.password, req.password))) throw rpcError('auth-failed');
      let prefix = newTokenPrefix();
      while (this.tokens.hasPrefix(prefix)) prefix = newTokenPrefix();
      // A client refreshing an expired token may still send it: Authenticate needs no caller.
      const resp = await this.run<pb.AuthenticateResponse>({ ID: 0n, authenticate: { name: req.name, password: '', simpleToken: prefix } }, undefined);
      if (this.store.revision === checkedAt) return resp;
    }
  }

  async userAdd(req: pb.AuthUserAddRequest, md?: RequestMetadata): Promise<pb.AuthUserAddResponse> {
    const noPassword = req.options?.noPassword === true;
    // The proposal carries the hash in place of the password.
    const password = noPassword || req.name.length === 0 ? '' : await hashPassword(req.password);
    return this.run({ ID: 0n, authUserAdd: { name: req.name, password, options: req.options ?? { noPassword: false } } }, md);
  }

  userGet(req: pb.AuthUserGetRequest, md?: RequestMetadata): Promise<pb.AuthUserGetResponse> {
    return this.run({ ID: 0n, authUserGet: req }, md);
  }

  userList(req: pb.AuthUserListRequest, md?: RequestMetadata): Promise<pb.AuthUserListResponse> {
    return this.run({ ID: 0n, authUserList: req }, md);
  }

  userDelete(req: pb.AuthUserDeleteRequest, md?: RequestMetadata): Promise<pb.AuthUserDeleteResponse> {
    return this.run({ ID: 0n, authUserDelete: req }, md);
  }

  async userChangePassword(req: pb.AuthUserChangePasswordRequest, md?: RequestMetadata): Promise<pb.AuthUserChangePasswordResponse> {
    const password = await hashPassword(req.password);
    return this.run({ ID: 0n, authUserChangePassword: { name: req.name, password } }, md);
  }

  userGrantRole(req: pb.AuthUserGrantRoleRequest, md?: RequestMetadata): Promise<pb.AuthUserGrantRoleResponse> {
    return this.run({ ID: 0n, authUserGrantRole: req }, md);
  }

  userRevokeRole(req: pb.AuthUserRevokeRoleRequest, md?: RequestMetadata): Promise<pb.AuthUserRevokeRoleResponse> {
    return this.run({ ID: 0n, authUserRevokeRole: req }, md);
  }

  roleAdd(req: pb.AuthRoleAddRequest, md?: RequestMetadata): Promise<pb.AuthRoleAddResponse> {
    return this.run({ ID: 0n, authRoleAdd: req }, md);
  }

  roleGet(req: pb.AuthRoleGetRequest, md?: RequestMetadata): Promise<pb.AuthRoleGetResponse> {
    return this.run({ ID: 0n, authRoleGet: req }, md);
  }

  roleList(req: pb.AuthRoleListRequest, md?: RequestMetadata): Promise<pb.AuthRoleListResponse> {
    return this.run({ ID: 0n, authRoleList: req }, md);
  }

  roleDelete(req: pb.AuthRoleDeleteRequest, md?: RequestMetadata): Promise<pb.AuthRoleDeleteResponse> {
    return this.run({ ID: 0n, authRoleDelete: req }, md);
  }

  async roleGrantPermission(req: pb.AuthRoleGrantPermissionRequest, md?: RequestMetadata): Promise<pb.AuthRoleGrantPermissionResponse> {
    // etcd 3.4 crashes applying a grant without a permission; it is refused here instead.
    if (req.perm === undefined) throw rpcError('invalid-auth-mgmt');
    return this.run({ ID: 0n, authRoleGrantPermission: req }, md);
  }

  roleRevokePermission(req: pb.AuthRoleRevokePermissionRequest, md?: RequestMetadata): Promise<pb.AuthRoleRevokePermissionResponse> {
    return this.run({ ID: 0n, authRoleRevokePermission: req }, md);
  }
}
