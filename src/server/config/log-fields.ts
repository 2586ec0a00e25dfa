/**
 * The effective configuration as structured log fields, named as etcd 3.4 names them in its
 * "starting an etcd server" line, so operators and log tooling read both alike.
 */

import { cpus } from 'node:os';
import { formatMs } from './duration.js';
import { effectiveQuotaBackendBytes, SNAPSHOT_CATCH_UP_ENTRIES, type ServerConfig } from './server-config.js';
import type { EtcdUrl } from './urls.js';
import { GIT_SHA, SERVER_VERSION } from './version.js';

const texts = (urls: readonly EtcdUrl[]): string[] => urls.map((u) => u.text);

/** Fields describing `config` for the startup log line. */
export function configLogFields(config: ServerConfig): Record<string, unknown> {
  const retention = config.autoCompactionMode === 'periodic'
    ? formatMs(config.autoCompactionRetention)
    : formatMs(config.autoCompactionRetention / 1e6);
  return {
    'etcd-version': SERVER_VERSION,
    'git-sha': GIT_SHA,
    'node-version': process.version,
    'node-os': process.platform,
    'node-arch': process.arch,
    'max-cpu-set': cpus().length,
    'max-cpu-available': cpus().length,
    name: config.name,
    'data-dir': config.dataDir,
    'wal-dir': config.walDir,
    'wal-dir-dedicated': config.walDir,
    'member-dir': `${config.dataDir}/member`,
    'force-new-cluster': config.forceNewCluster,
    'heartbeat-interval': formatMs(config.heartbeatIntervalMs),
    'election-timeout': formatMs(config.electionTimeoutMs),
    'initial-election-tick-advance': config.initialElectionTickAdvance,
    'snapshot-count': config.snapshotCount,
    'max-wals': config.maxWals,
    'max-snapshots': config.maxSnapshots,
    'snapshot-catchup-entries': SNAPSHOT_CATCH_UP_ENTRIES,
    'initial-advertise-peer-urls': texts(config.initialAdvertisePeerUrls),
    'listen-peer-urls': texts(config.listenPeerUrls),
    'advertise-client-urls': texts(config.advertiseClientUrls),
    'listen-client-urls': texts(config.listenClientUrls),
    'listen-metrics-urls': texts(config.listenMetricsUrls),
    cors: config.cors,
    'host-whitelist': config.hostWhitelist,
    'initial-cluster': config.initialCluster,
    'initial-cluster-state': config.initialClusterState,
    'initial-cluster-token': config.initialClusterToken,
    'quota-backend-bytes': effectiveQuotaBackendBytes(config) ?? config.quotaBackendBytes,
    'max-request-bytes': config.maxRequestBytes,
    'max-concurrent-streams': config.maxConcurrentStreams,
    'pre-vote': config.preVote,
    'initial-corrupt-check': config.experimentalInitialCorruptCheck,
    'corrupt-check-time-interval': formatMs(config.experimentalCorruptCheckTimeMs),
    'auto-compaction-mode': config.autoCompactionMode,
    'auto-compaction-retention': retention,
    'auto-compaction-interval': retention,
    'discovery-url': config.discovery,
    'discovery-proxy': config.discoveryProxy,
  };
}
