/** The end-to-end test harness: real member processes, real etcdctl, skip rules. */
export { ETCD_BIN, ETCDCTL_BIN, etcdTsEntry, hasEtcdctl, hasEtcdTsDist, hasRealEtcd, projectRoot, realEtcdSkipReason } from './binaries.js';
export { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
export { etcdctl, etcdctlSync, type EtcdctlOptions, type EtcdctlResult } from './etcdctl.js';
export { freePorts } from './free-port.js';
export { clusterIdOf, memberIdOf } from './member-id.js';
export { Member, startMember, type ExitStatus, type MemberKind, type MemberOptions } from './member.js';
export { liveProcessCount } from './reaper.js';
export { targetKind, targetSkipReason } from './target.js';
