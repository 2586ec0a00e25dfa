/**
 * The one catalogue of errors the v3 gRPC API sends to clients: for each, a stable code, the gRPC
 * status and the exact message text etcd sends. Clients (clientv3, etcdctl, etcd3 for Node)
 * recognise errors by that text, so it must match etcd byte for byte.
 *
 * Sources: etcd's etcdserver/api/v3rpc/rpctypes (the ErrGRPC* table) for entries marked '3.4'
 * and '3.5'; errors etcd 3.4 passes through as UNKNOWN with its own package's text
 * (togRPCError's fallback) are listed with their Go name.
 */
import { GrpcStatus } from './grpc-status.js';

/** One error as a client sees it. */
export interface RpcErrorSpec {
  /** Stable kebab-case identifier, e.g. 'compacted'. */
  readonly code: string;
  /** gRPC status code etcd answers with. */
  readonly status: GrpcStatus;
  /** The exact gRPC status message etcd sends. */
  readonly message: string;
  /** etcd's Go name for it, for cross-reference. */
  readonly etcdName: string;
  /**
   * '3.4': etcd 3.4.0 sends it. '3.5': added after 3.4.0 (in 3.5; some were backported to late
   * 3.4.x). A 3.4-compatible server sends only '3.4' entries; the others are known so that a
   * client recognises them from newer servers.
   */
  readonly since: '3.4' | '3.5';
}

const { INVALID_ARGUMENT, OUT_OF_RANGE, RESOURCE_EXHAUSTED, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED } = GrpcStatus;
const { UNAUTHENTICATED, UNAVAILABLE, DATA_LOSS, CANCELLED, UNKNOWN } = GrpcStatus;

/** Every catalogued error, grouped as etcd groups them. */
export const RPC_ERROR_SPECS = [
  // Request validation and the key-value store.
  { code: 'empty-key', status: INVALID_ARGUMENT, message: 'etcdserver: key is not provided', etcdName: 'ErrGRPCEmptyKey', since: '3.4' },
  { code: 'key-not-found', status: INVALID_ARGUMENT, message: 'etcdserver: key not found', etcdName: 'ErrGRPCKeyNotFound', since: '3.4' },
  { code: 'value-provided', status: INVALID_ARGUMENT, message: 'etcdserver: value is provided', etcdName: 'ErrGRPCValueProvided', since: '3.4' },
  { code: 'lease-provided', status: INVALID_ARGUMENT, message: 'etcdserver: lease is provided', etcdName: 'ErrGRPCLeaseProvided', since: '3.4' },
  { code: 'too-many-ops', status: INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request', etcdName: 'ErrGRPCTooManyOps', since: '3.4' },
  { code: 'duplicate-key', status: INVALID_ARGUMENT, message: 'etcdserver: duplicate key given in txn request', etcdName: 'ErrGRPCDuplicateKey', since: '3.4' },
  // etcd 3.4 ignores an unknown sort order and crashes on an unknown sort target; 3.5's refusal keeps the member up.
  { code: 'invalid-sort-option', status: INVALID_ARGUMENT, message: 'etcdserver: invalid sort option', etcdName: 'ErrGRPCInvalidSortOption', since: '3.5' },
  { code: 'compacted', status: OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted', etcdName: 'ErrGRPCCompacted', since: '3.4' },
  { code: 'future-rev', status: OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision is a future revision', etcdName: 'ErrGRPCFutureRev', since: '3.4' },
  { code: 'no-space', status: RESOURCE_EXHAUSTED, message: 'etcdserver: mvcc: database space exceeded', etcdName: 'ErrGRPCNoSpace', since: '3.4' },

  // Leases.
  { code: 'lease-not-found', status: NOT_FOUND, message: 'etcdserver: requested lease not found', etcdName: 'ErrGRPCLeaseNotFound', since: '3.4' },
  { code: 'lease-exist', status: FAILED_PRECONDITION, message: 'etcdserver: lease already exists', etcdName: 'ErrGRPCLeaseExist', since: '3.4' },
  { code: 'lease-ttl-too-large', status: OUT_OF_RANGE, message: 'etcdserver: too large lease TTL', etcdName: 'ErrGRPCLeaseTTLTooLarge', since: '3.4' },

  // Watch.
  { code: 'watch-canceled', status: CANCELLED, message: 'etcdserver: watch canceled', etcdName: 'ErrGRPCWatchCanceled', since: '3.5' },

  // Membership.
  { code: 'member-exist', status: FAILED_PRECONDITION, message: 'etcdserver: member ID already exist', etcdName: 'ErrGRPCMemberExist', since: '3.4' },
  { code: 'peer-url-exist', status: FAILED_PRECONDITION, message: 'etcdserver: Peer URLs already exists', etcdName: 'ErrGRPCPeerURLExist', since: '3.4' },
  { code: 'member-not-enough-started', status: FAILED_PRECONDITION, message: 'etcdserver: re-configuration failed due to not enough started members', etcdName: 'ErrGRPCMemberNotEnoughStarted', since: '3.4' },
  { code: 'member-bad-urls', status: INVALID_ARGUMENT, message: 'etcdserver: given member URLs are invalid', etcdName: 'ErrGRPCMemberBadURLs', since: '3.4' },
  { code: 'member-not-found', status: NOT_FOUND, message: 'etcdserver: member not found', etcdName: 'ErrGRPCMemberNotFound', since: '3.4' },
  { code: 'member-not-learner', status: FAILED_PRECONDITION, message: 'etcdserver: can only promote a learner member', etcdName: 'ErrGRPCMemberNotLearner', since: '3.4' },
  { code: 'learner-not-ready', status: FAILED_PRECONDITION, message: 'etcdserver: can only promote a learner member which is in sync with leader', etcdName: 'ErrGRPCLearnerNotReady', since: '3.4' },
  { code: 'too-many-learners', status: FAILED_PRECONDITION, message: 'etcdserver: too many learner members in cluster', etcdName: 'ErrGRPCTooManyLearners', since: '3.4' },

  // Request limits.
  { code: 'request-too-large', status: INVALID_ARGUMENT, message: 'etcdserver: request is too large', etcdName: 'ErrGRPCRequestTooLarge', since: '3.4' },
  { code: 'too-many-requests', status: RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests', etcdName: 'ErrGRPCRequestTooManyRequests', since: '3.4' },

  // Authentication and authorisation.
  { code: 'root-user-not-exist', status: FAILED_PRECONDITION, message: 'etcdserver: root user does not exist', etcdName: 'ErrGRPCRootUserNotExist', since: '3.4' },
  { code: 'root-role-not-exist', status: FAILED_PRECONDITION, message: 'etcdserver: root user does not have root role', etcdName: 'ErrGRPCRootRoleNotExist', since: '3.4' },
  { code: 'user-already-exist', status: FAILED_PRECONDITION, message: 'etcdserver: user name already exists', etcdName: 'ErrGRPCUserAlreadyExist', since: '3.4' },
  { code: 'user-empty', status: INVALID_ARGUMENT, message: 'etcdserver: user name is empty', etcdName: 'ErrGRPCUserEmpty', since: '3.4' },
  { code: 'user-not-found', status: FAILED_PRECONDITION, message: 'etcdserver: user name not found', etcdName: 'ErrGRPCUserNotFound', since: '3.4' },
  { code: 'role-already-exist', status: FAILED_PRECONDITION, message: 'etcdserver: role name already exists', etcdName: 'ErrGRPCRoleAlreadyExist', since: '3.4' },
  { code: 'role-not-found', status: FAILED_PRECONDITION, message: 'etcdserver: role name not found', etcdName: 'ErrGRPCRoleNotFound', since: '3.4' },
  { code: 'role-empty', status: INVALID_ARGUMENT, message: 'etcdserver: role name is empty', etcdName: 'ErrGRPCRoleEmpty', since: '3.4' },
  { code: 'auth-failed', status: INVALID_ARGUMENT, message: 'etcdserver: authentication failed, invalid user ID or password', etcdName: 'ErrGRPCAuthFailed', since: '3.4' },
  { code: 'permission-denied', status: PERMISSION_DENIED, message: 'etcdserver: permission denied', etcdName: 'ErrGRPCPermissionDenied', since: '3.4' },
  { code: 'role-not-granted', status: FAILED_PRECONDITION, message: 'etcdserver: role is not granted to the user', etcdName: 'ErrGRPCRoleNotGranted', since: '3.4' },
  { code: 'permission-not-granted', status: FAILED_PRECONDITION, message: 'etcdserver: permission is not granted to the role', etcdName: 'ErrGRPCPermissionNotGranted', since: '3.4' },
  { code: 'auth-not-enabled', status: FAILED_PRECONDITION, message: 'etcdserver: authentication is not enabled', etcdName: 'ErrGRPCAuthNotEnabled', since: '3.4' },
  { code: 'invalid-auth-token', status: UNAUTHENTICATED, message: 'etcdserver: invalid auth token', etcdName: 'ErrGRPCInvalidAuthToken', since: '3.4' },
  { code: 'invalid-auth-mgmt', status: INVALID_ARGUMENT, message: 'etcdserver: invalid auth management', etcdName: 'ErrGRPCInvalidAuthMgmt', since: '3.4' },
  // 3.4 has no gRPC mapping for the auth store's stale-revision error, so it goes out as UNKNOWN
  // with the auth package's text; 3.5 added the mapped form below it.
  { code: 'auth-old-revision', status: UNKNOWN, message: 'auth: revision in header is old', etcdName: 'auth.ErrAuthOldRevision', since: '3.4' },
  { code: 'auth-store-old-revision', status: INVALID_ARGUMENT, message: 'etcdserver: revision of auth store is old', etcdName: 'ErrGRPCAuthOldRevision', since: '3.5' },
  // etcd 3.4's maintenance server returns the auth store's own errors unmapped (UNKNOWN), and
  // Authenticate of a --no-password user fails with an error that has no gRPC mapping either.
  { code: 'auth-user-empty-unmapped', status: UNKNOWN, message: 'auth: user name is empty', etcdName: 'auth.ErrUserEmpty', since: '3.4' },
  { code: 'auth-permission-denied-unmapped', status: UNKNOWN, message: 'auth: permission denied', etcdName: 'auth.ErrPermissionDenied', since: '3.4' },
  { code: 'auth-user-not-found-unmapped', status: UNKNOWN, message: 'auth: user name not found', etcdName: 'auth.ErrUserNotFound', since: '3.4' },
  { code: 'auth-no-password-user', status: UNKNOWN, message: 'auth: authentication failed, password was given for no password user', etcdName: 'auth.ErrNoPasswordUser', since: '3.4' },

  // Cluster health and leadership.
  { code: 'no-leader', status: UNAVAILABLE, message: 'etcdserver: no leader', etcdName: 'ErrGRPCNoLeader', since: '3.4' },
  { code: 'not-leader', status: FAILED_PRECONDITION, message: 'etcdserver: not leader', etcdName: 'ErrGRPCNotLeader', since: '3.4' },
  { code: 'leader-changed', status: UNAVAILABLE, message: 'etcdserver: leader changed', etcdName: 'ErrGRPCLeaderChanged', since: '3.4' },
  { code: 'not-capable', status: UNAVAILABLE, message: 'etcdserver: not capable', etcdName: 'ErrGRPCNotCapable', since: '3.4' },
  { code: 'stopped', status: UNAVAILABLE, message: 'etcdserver: server stopped', etcdName: 'ErrGRPCStopped', since: '3.4' },
  { code: 'timeout', status: UNAVAILABLE, message: 'etcdserver: request timed out', etcdName: 'ErrGRPCTimeout', since: '3.4' },
  { code: 'timeout-due-to-leader-fail', status: UNAVAILABLE, message: 'etcdserver: request timed out, possibly due to previous leader failure', etcdName: 'ErrGRPCTimeoutDueToLeaderFail', since: '3.4' },
  { code: 'timeout-due-to-connection-lost', status: UNAVAILABLE, message: 'etcdserver: request timed out, possibly due to connection lost', etcdName: 'ErrGRPCTimeoutDueToConnectionLost', since: '3.4' },
  { code: 'timeout-wait-applied-index', status: UNAVAILABLE, message: 'etcdserver: request timed out, waiting for the applied index took too long', etcdName: 'ErrGRPCTimeoutWaitAppliedIndex', since: '3.5' },
  { code: 'unhealthy', status: UNAVAILABLE, message: 'etcdserver: unhealthy cluster', etcdName: 'ErrGRPCUnhealthy', since: '3.4' },
  { code: 'corrupt', status: DATA_LOSS, message: 'etcdserver: corrupt cluster', etcdName: 'ErrGRPCCorrupt', since: '3.4' },
  // etcd's Go name carries a typo (GPRC); the text is what matters.
  { code: 'not-supported-for-learner', status: UNAVAILABLE, message: 'etcdserver: rpc not supported for learner', etcdName: 'ErrGPRCNotSupportedForLearner', since: '3.4' },
  { code: 'bad-leader-transferee', status: FAILED_PRECONDITION, message: 'etcdserver: bad leader transferee', etcdName: 'ErrGRPCBadLeaderTransferee', since: '3.4' },

  // Downgrade (3.5 only; a 3.4 server has no Downgrade RPC).
  { code: 'cluster-version-unavailable', status: UNAVAILABLE, message: 'etcdserver: cluster version not found during downgrade', etcdName: 'ErrGRPCClusterVersionUnavailable', since: '3.5' },
  { code: 'wrong-downgrade-version-format', status: INVALID_ARGUMENT, message: 'etcdserver: wrong downgrade target version format', etcdName: 'ErrGRPCWrongDowngradeVersionFormat', since: '3.5' },
  { code: 'invalid-downgrade-target-version', status: INVALID_ARGUMENT, message: 'etcdserver: invalid downgrade target version', etcdName: 'ErrGRPCInvalidDowngradeTargetVersion', since: '3.5' },
  { code: 'downgrade-in-process', status: FAILED_PRECONDITION, message: 'etcdserver: cluster has a downgrade job in progress', etcdName: 'ErrGRPCDowngradeInProcess', since: '3.5' },
  { code: 'no-inflight-downgrade', status: FAILED_PRECONDITION, message: 'etcdserver: no inflight downgrade job', etcdName: 'ErrGRPCNoInflightDowngrade', since: '3.5' },

  // Election and lock services: etcd 3.4 returns these plain Go errors, which gRPC sends as UNKNOWN.
  { code: 'election-no-leader', status: UNKNOWN, message: 'election: no leader', etcdName: 'concurrency.ErrElectionNoLeader', since: '3.4' },
  { code: 'election-not-leader', status: UNKNOWN, message: 'election: not leader', etcdName: 'concurrency.ErrElectionNotLeader', since: '3.4' },
  { code: 'election-missing-leader-key', status: UNKNOWN, message: '"leader" field must be provided', etcdName: 'v3election.ErrMissingLeaderKey', since: '3.4' },
] as const satisfies readonly RpcErrorSpec[];

/** The code of a catalogued error. */
export type RpcErrorCode = (typeof RPC_ERROR_SPECS)[number]['code'];

/** Catalogue entries by code. */
export const rpcErrorSpecs: { readonly [C in RpcErrorCode]: RpcErrorSpec } = Object.fromEntries(
  RPC_ERROR_SPECS.map((s) => [s.code, s]),
) as { [C in RpcErrorCode]: RpcErrorSpec };

const byMessage: ReadonlyMap<string, RpcErrorSpec> = new Map(RPC_ERROR_SPECS.map((s) => [s.message, s]));

/** The catalogue entry whose text is exactly `message`, if any (the client's reverse lookup). */
export function rpcErrorSpecByMessage(message: string): RpcErrorSpec | undefined {
  return byMessage.get(message);
}
