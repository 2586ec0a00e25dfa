/** Users, roles, key permissions and simple tokens (etcd's auth package), deterministic. */
export { AuthStore, ROOT, hasRootRole, type AuthErrorCode, type AuthInfo } from './auth-store.js';
export { applyAuth, checkApplyPermitted, checkLeaseKeys, checkTxnPermitted, isAuthRequest, type AuthApplyContext, type AuthApplyOutcome, type LeaseKeys } from './auth-apply.js';
export { RangePermissions, compareAffine, permissionInterval, type KeyInterval } from './range-permissions.js';
export { SIMPLE_TOKEN_PREFIX_LENGTH, SIMPLE_TOKEN_TTL_MS, SimpleTokens, simpleTokenIndex } from './simple-tokens.js';
