/**
 * Version strings etcd-ts reports: to clients (`/version`, the gRPC status response), in
 * `--version` and in the startup log. We speak etcd's 3.4 protocol, so clients see an
 * etcd 3.4 server.
 */

/** The program name used in `--version`, usage text and error hints. */
export const PROGRAM_NAME = 'etcd-ts';

/** The etcd server version we report (`etcdserver` in `/version`). */
export const SERVER_VERSION = '3.4.30';

/** The cluster version a 3.4 cluster settles on (`etcdcluster` in `/version`). */
export const CLUSTER_VERSION = '3.4.0';

/** What `/version` reports as `etcdcluster` before the cluster version is decided. */
export const CLUSTER_VERSION_NOT_DECIDED = 'not_decided';

/** The lowest cluster version a 3.4 member can join. */
export const MIN_CLUSTER_VERSION = '3.0.0';

/** The git revision we report; a build may not know it. */
export const GIT_SHA = 'Not provided';
