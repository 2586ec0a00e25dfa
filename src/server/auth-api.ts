/**
 * The Auth service as the API edges see it (etcd's AuthServer), and how a call's credentials
 * reach the member: the token etcd's clients send as the `token` gRPC metadata (or, through the
 * JSON gateway, the `Authorization` header, which grpc-gateway forwards as `authorization`).
 */
import type * as pb from '../api/gen/etcdserverpb.js';

/**
 * A call's metadata, read only for its auth token. grpc-js's Metadata satisfies it; the gateway
 * adapts its headers. Values are strings (binary values are ignored).
 */
export interface RequestMetadata {
  get(key: string): readonly unknown[];
}

/** The token a call carries: `token` metadata first, then `authorization` (etcd's AuthInfoFromCtx). */
export function tokenOf(md: RequestMetadata | undefined): string | undefined {
  if (md === undefined) return undefined;
  const t = md.get('token')[0] ?? md.get('authorization')[0];
  return typeof t === 'string' ? t : undefined;
}

/** The Auth service. Every method goes through raft, as in etcd 3.4, and rejects with an RpcError. */
export interface AuthApi {
  authEnable(req: pb.AuthEnableRequest, md?: RequestMetadata): Promise<pb.AuthEnableResponse>;
  authDisable(req: pb.AuthDisableRequest, md?: RequestMetadata): Promise<pb.AuthDisableResponse>;
  /** Checks the password and answers a new simple token. */
  authenticate(req: pb.AuthenticateRequest, md?: RequestMetadata): Promise<pb.AuthenticateResponse>;
  userAdd(req: pb.AuthUserAddRequest, md?: RequestMetadata): Promise<pb.AuthUserAddResponse>;
  userGet(req: pb.AuthUserGetRequest, md?: RequestMetadata): Promise<pb.AuthUserGetResponse>;
  userList(req: pb.AuthUserListRequest, md?: RequestMetadata): Promise<pb.AuthUserListResponse>;
  userDelete(req: pb.AuthUserDeleteRequest, md?: RequestMetadata): Promise<pb.AuthUserDeleteResponse>;
  userChangePassword(req: pb.AuthUserChangePasswordRequest, md?: RequestMetadata): Promise<pb.AuthUserChangePasswordResponse>;
  userGrantRole(req: pb.AuthUserGrantRoleRequest, md?: RequestMetadata): Promise<pb.AuthUserGrantRoleResponse>;
  userRevokeRole(req: pb.AuthUserRevokeRoleRequest, md?: RequestMetadata): Promise<pb.AuthUserRevokeRoleResponse>;
  roleAdd(req: pb.AuthRoleAddRequest, md?: RequestMetadata): Promise<pb.AuthRoleAddResponse>;
  roleGet(req: pb.AuthRoleGetRequest, md?: RequestMetadata): Promise<pb.AuthRoleGetResponse>;
  roleList(req: pb.AuthRoleListRequest, md?: RequestMetadata): Promise<pb.AuthRoleListResponse>;
  roleDelete(req: pb.AuthRoleDeleteRequest, md?: RequestMetadata): Promise<pb.AuthRoleDeleteResponse>;
  roleGrantPermission(req: pb.AuthRoleGrantPermissionRequest, md?: RequestMetadata): Promise<pb.AuthRoleGrantPermissionResponse>;
  roleRevokePermission(req: pb.AuthRoleRevokePermissionRequest, md?: RequestMetadata): Promise<pb.AuthRoleRevokePermissionResponse>;
  /**
   * Throws unless the call may revoke lease `id` while authentication is enabled: it needs write
   * permission on every key attached (so a user, when there are keys).
   */
  checkLeaseRevoke(md: RequestMetadata | undefined, id: bigint): void;
  /**
   * Throws unless the call may use the maintenance RPCs that expose or rewrite the whole store
   * (Defragment, Snapshot, Hash, HashKV): the root role, while authentication is enabled.
   */
  checkAdmin(md: RequestMetadata | undefined): void;
  /** Whether a watcher of [key, rangeEnd) may be created by this call (read permission). */
  isWatchPermitted(md: RequestMetadata | undefined, key: Uint8Array, rangeEnd: Uint8Array): boolean;
}
