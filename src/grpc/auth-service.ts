/** etcd's Auth gRPC service (etcdserverpb.Auth): each method calls the member's AuthApi with the call's metadata. */
import { grpcServices } from '../api/codec.js';
import type { Logger } from '../pkg/logger.js';
import type { AuthApi } from '../server/auth-api.js';
import { edgeServiceDefinition } from './request-decoding.js';
import type { EdgeService } from './services.js';
import { unaryHandler } from './unary-handler.js';

const auth = edgeServiceDefinition(grpcServices.Auth);

/** The Auth service bound to `api`. */
export function authService(api: AuthApi, logger: Logger): EdgeService {
  return {
    name: 'etcdserverpb.Auth',
    definition: auth,
    implementation: {
      AuthEnable: unaryHandler(auth.AuthEnable.path, (r, md) => api.authEnable(r, md), logger),
      AuthDisable: unaryHandler(auth.AuthDisable.path, (r, md) => api.authDisable(r, md), logger),
      Authenticate: unaryHandler(auth.Authenticate.path, (r, md) => api.authenticate(r, md), logger),
      UserAdd: unaryHandler(auth.UserAdd.path, (r, md) => api.userAdd(r, md), logger),
      UserGet: unaryHandler(auth.UserGet.path, (r, md) => api.userGet(r, md), logger),
      UserList: unaryHandler(auth.UserList.path, (r, md) => api.userList(r, md), logger),
      UserDelete: unaryHandler(auth.UserDelete.path, (r, md) => api.userDelete(r, md), logger),
      UserChangePassword: unaryHandler(auth.UserChangePassword.path, (r, md) => api.userChangePassword(r, md), logger),
      UserGrantRole: unaryHandler(auth.UserGrantRole.path, (r, md) => api.userGrantRole(r, md), logger),
      UserRevokeRole: unaryHandler(auth.UserRevokeRole.path, (r, md) => api.userRevokeRole(r, md), logger),
      RoleAdd: unaryHandler(auth.RoleAdd.path, (r, md) => api.roleAdd(r, md), logger),
      RoleGet: unaryHandler(auth.RoleGet.path, (r, md) => api.roleGet(r, md), logger),
      RoleList: unaryHandler(auth.RoleList.path, (r, md) => api.roleList(r, md), logger),
      RoleDelete: unaryHandler(auth.RoleDelete.path, (r, md) => api.roleDelete(r, md), logger),
      RoleGrantPermission: unaryHandler(auth.RoleGrantPermission.path, (r, md) => api.roleGrantPermission(r, md), logger),
      RoleRevokePermission: unaryHandler(auth.RoleRevokePermission.path, (r, md) => api.roleRevokePermission(r, md), logger),
    },
  };
}
