/**
 * Turns a command line and environment into a checked {@link ServerConfig}, following etcd 3.4
 * step by step:
 *
 * 1. flags are read like Go's `flag` package (errors: exit code 2);
 * 2. `-h`/`--help` and `--version` short-circuit;
 * 3. with `--config-file` (or `ETCD_CONFIG_FILE`) the YAML file is the whole configuration and
 *    other flags and the environment are ignored; otherwise every flag not given on the command
 *    line takes its `ETCD_*` variable, and a variable shadowed by a given flag is an error;
 * 4. the result is checked with etcd's rules and texts (errors: exit code 1).
 */

import { parseGoDuration } from './duration.js';
import { applyConfigFile } from './config-file.js';
import { defaultFlagValues, FLAG_SPECS, flagToEnv, parseCommandLine, setFlagValue, type FlagValue } from './flags.js';
import {
  DEFAULT_INITIAL_CLUSTER,
  DEFAULT_NAME,
  MAX_ELECTION_TIMEOUT_MS,
  type AutoCompactionMode,
  type ServerConfig,
  type TlsSettings,
} from './server-config.js';
import { checkBindUrls, checkHostUrls, type EtcdUrl } from './urls.js';
import { PROGRAM_NAME } from './version.js';

/** The outcome of {@link parseConfig}. */
export type ParseConfigResult =
  | {
      ok: true;
      action: 'run';
      config: ServerConfig;
      /** Things etcd warns about (unrecognized `ETCD_*` variables, deprecated flags). */
      warnings: string[];
    }
  | { ok: true; action: 'help' | 'version' }
  | {
      ok: false;
      /** One line, in etcd's words. */
      error: string;
      /** What etcd exits with: 2 for a malformed command line, 1 for a rejected configuration. */
      exitCode: 1 | 2;
    };

/** The levels etcd's `--log-level` accepts. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;

function verifying(err: string): ParseConfigResult {
  return { ok: false, error: `error verifying flags, ${err}. See '${PROGRAM_NAME} --help'.`, exitCode: 1 };
}

const goQuoteList = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/**
 * Parses `argv` (without node and script) and `env` into a configuration, or etcd's one-line
 * error and exit code. Reads the config file when one is named; nothing else touches the system.
 */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParseConfigResult {
  const cl = parseCommandLine(argv);
  if (!cl.ok) return { ok: false, error: cl.error, exitCode: 2 };
  if (cl.help) return { ok: true, action: 'help' };
  if (cl.positional.length > 0) return verifying(`'${cl.positional[0]}' is not a valid flag`);
  if (cl.values.get('version') === true) return { ok: true, action: 'version' };

  const warnings: string[] = [];
  let values = cl.values;
  let set = cl.set;
  const configFile = (values.get('config-file') as string) || (env[flagToEnv('config-file')] ?? '');
  if (configFile !== '') {
    values = defaultFlagValues();
    const r = applyConfigFile(configFile, values);
    if (!r.ok) return r.verifying ? verifying(r.error) : { ok: false, error: r.error, exitCode: 1 };
    set = r.set;
    for (const name of ['discovery-fallback', 'proxy']) {
      const spec = FLAG_SPECS.find((s) => s.name === name)!;
      if (set.has(name) && !spec.choices!.includes(values.get(name) as string)) {
        return { ok: false, error: `unexpected error setting up ${name === 'proxy' ? 'proxyFlag' : `${name} flag`}: invalid value`, exitCode: 1 };
      }
    }
    // A discovery setting replaces the default initial cluster (etcd clears it).
    if ((values.get('discovery') !== '' || values.get('discovery-srv') !== '') && values.get('initial-cluster') === DEFAULT_INITIAL_CLUSTER) {
      values.set('initial-cluster', '');
    }
    if (values.get('initial-cluster-state') === '') values.set('initial-cluster-state', 'new');
  } else {
    const envResult = applyEnvironment(values, set, env, warnings);
    if (envResult !== undefined) return envResult;
    // Listening on chosen client URLs without advertising any would advertise localhost:
    // etcd drops the default so validation can insist on an explicit value.
    if (set.has('listen-client-urls') && !set.has('advertise-client-urls') && !mayBeProxy(values)) {
      values.set('advertise-client-urls', []);
    }
    if ((values.get('discovery') !== '' || values.get('discovery-srv') !== '' || values.get('discovery-srv-name') !== '') && !set.has('initial-cluster')) {
      values.set('initial-cluster', '');
    }
  }
  return buildAndValidate(values, configFile, warnings);
}

function mayBeProxy(values: Map<string, FlagValue>): boolean {
  const fallsBackToProxy = values.get('discovery') !== '' && values.get('discovery-fallback') === 'proxy';
  return values.get('proxy') !== 'off' || fallsBackToProxy;
}

/**
 * Fills flags not given on the command line from `ETCD_*` variables (empty ones do not count),
 * as etcd's `SetFlagsFromEnv`: a variable shadowed by a given flag is fatal; other unknown
 * `ETCD_*` variables are warnings. Returns an error result, or undefined.
 */
function applyEnvironment(values: Map<string, FlagValue>, set: Set<string>, env: Record<string, string | undefined>, warnings: string[]): ParseConfigResult | undefined {
  const shadowed = new Set([...set].map(flagToEnv));
  const used = new Set<string>();
  let error: string | undefined;
  // Go visits flags in name order, and the last failing one is reported.
  const byName = [...FLAG_SPECS].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const spec of byName) {
    const key = flagToEnv(spec.name);
    if (shadowed.has(key)) continue;
    const text = env[key];
    if (text === undefined || text === '') continue;
    used.add(key);
    const r = setFlagValue(spec, text, values.get(spec.name));
    if (!r.ok) {
      error = `invalid value ${JSON.stringify(text)} for ${key}: ${r.error}`;
      continue;
    }
    values.set(spec.name, r.value);
    set.add(spec.name);
  }
  for (const [key, text] of Object.entries(env)) {
    if (text === undefined || used.has(key)) continue;
    if (shadowed.has(key)) {
      return {
        ok: false,
        error: `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        exitCode: 1,
      };
    }
    // ETCD_TS_* are etcd-ts's own settings (ETCD_TS_GRPC_SERVER), read where they apply.
    if (key.startsWith('ETCD_') && !key.startsWith('ETCD_TS_')) warnings.push(`unrecognized environment variable ${key}=${text}`);
  }
  return error === undefined ? undefined : verifying(error);
}

/**
 * Reads `--auto-compaction-retention` as etcd does: a plain non-negative integer is hours in
 * periodic mode and revisions in revision mode; anything else must be a Go duration (in
 * revision mode etcd then counts its nanoseconds as revisions, and so do we).
 */
export function parseCompactionRetention(mode: AutoCompactionMode, text: string): { ok: true; value: number } | { ok: false; error: string } {
  if (/^[+-]?[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n >= 0) return { ok: true, value: mode === 'periodic' ? n * 3600_000 : n };
  }
  const d = parseGoDuration(text);
  if (!d.ok) return { ok: false, error: `error parsing CompactionRetention: ${d.error}` };
  return { ok: true, value: mode === 'periodic' ? d.ns / 1e6 : d.ns };
}

function tls(values: Map<string, FlagValue>, prefix: string): TlsSettings {
  const s = (k: string): string => (values.get(`${prefix}${k}`) as string | undefined) ?? '';
  const b = (k: string): boolean => values.get(`${prefix}${k}`) === true;
  return {
    certFile: s('cert-file'),
    keyFile: s('key-file'),
    trustedCaFile: s('trusted-ca-file'),
    clientCertAuth: b('client-cert-auth'),
    crlFile: prefix === '' ? s('client-crl-file') : s('crl-file'),
    autoTls: b('auto-tls'),
    allowedCn: prefix === '' ? '' : s('cert-allowed-cn'),
    allowedHostname: prefix === '' ? s('client-cert-allowed-hostname') : s('cert-allowed-hostname'),
  };
}

function buildAndValidate(values: Map<string, FlagValue>, configFile: string, warnings: string[]): ParseConfigResult {
  const str = (k: string): string => values.get(k) as string;
  const num = (k: string): number => values.get(k) as number;
  const bool = (k: string): boolean => values.get(k) === true;
  const urls = (k: string): readonly EtcdUrl[] => values.get(k) as readonly EtcdUrl[];
  const list = (k: string): readonly string[] => values.get(k) as readonly string[];
  const ms = (k: string): number => num(k) / 1e6;

  // Logging first, as etcd sets up its logger before anything else is checked.
  const logger = str('logger');
  if (logger !== 'zap' && logger !== 'capnslog') return verifying(`unknown logger option ${JSON.stringify(logger)}`);
  let logOutputs = list('log-outputs');
  const deprecatedOutputs = list('log-output');
  if (deprecatedOutputs.join(',') !== 'default' && logOutputs.join(',') === 'default') {
    warnings.push("Deprecated '--log-output' flag is set; use '--log-outputs' flag instead");
    logOutputs = deprecatedOutputs;
  }
  if (logger === 'capnslog') {
    if (logOutputs.length !== 1) return verifying(`--logger=capnslog supports only 1 value in '--log-outputs', got ${goQuoteList(logOutputs)}`);
    const out = logOutputs[0]!;
    if (out !== 'default' && out !== 'stderr' && out !== 'stdout') {
      return verifying(`unknown log-output ${JSON.stringify(out)} (only supports "default", "stderr", "stdout")`);
    }
  }
  let logLevel = str('log-level');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    // etcd 3.4 panics here, which exits with status 2.
    return { ok: false, error: `unknown level ${JSON.stringify(logLevel)}`, exitCode: 2 };
  }
  if (bool('debug')) {
    warnings.push("Deprecated '--debug' flag is set to true (use '--log-level=debug' instead");
    logLevel = 'debug';
  }

  for (const key of ['listen-peer-urls', 'listen-client-urls', 'listen-metrics-urls']) {
    const err = checkBindUrls(urls(key));
    if (err !== undefined) return verifying(err);
  }
  for (const key of ['initial-advertise-peer-urls', 'advertise-client-urls']) {
    const err = checkHostUrls(urls(key));
    if (err !== undefined) return verifying(`--${key} ${JSON.stringify(urls(key).map((u) => u.text).join(','))} must be "host:port" (${err})`);
  }
  const clusterState = str('initial-cluster-state');
  if (clusterState !== 'new' && clusterState !== 'existing') return verifying(`unexpected clusterState ${JSON.stringify(clusterState)}`);
  const bootstrapWays = [str('discovery'), str('initial-cluster'), str('discovery-srv')].filter((s) => s !== '').length;
  if (bootstrapWays > 1) {
    return verifying('multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"');
  }
  const tick = num('heartbeat-interval');
  const election = num('election-timeout');
  if (tick <= 0) return verifying(`--heartbeat-interval must be >0 (set to ${tick}ms)`);
  if (election <= 0) return verifying(`--election-timeout must be >0 (set to ${election}ms)`);
  if (5 * tick > election) return verifying(`--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`);
  if (election > MAX_ELECTION_TIMEOUT_MS) return verifying(`--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`);
  if (urls('listen-client-urls').length > 0 && urls('advertise-client-urls').length === 0 && !mayBeProxy(values)) {
    return verifying('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  const modeText = str('auto-compaction-mode');
  if (modeText !== '' && modeText !== 'periodic' && modeText !== 'revision') return verifying(`unknown auto-compaction-mode ${JSON.stringify(modeText)}`);
  const mode: AutoCompactionMode = modeText === 'revision' ? 'revision' : 'periodic';
  const retention = parseCompactionRetention(mode, str('auto-compaction-retention'));
  if (!retention.ok) return { ok: false, error: retention.error, exitCode: 1 };

  const name = str('name');
  let initialCluster = str('initial-cluster');
  // Naming a member without naming the cluster means "a cluster of just me" (etcd's
  // UpdateDefaultClusterFromName): the default initial cluster takes the member's name and URLs.
  if (name !== DEFAULT_NAME && initialCluster === DEFAULT_INITIAL_CLUSTER) {
    const member = name === '' ? DEFAULT_NAME : name;
    initialCluster = urls('initial-advertise-peer-urls').map((u) => `${member}=${u.text}`).join(',');
  }
  const dataDir = str('data-dir') !== '' ? str('data-dir') : `${name}.etcd`;

  const config: ServerConfig = {
    name,
    dataDir,
    walDir: str('wal-dir'),
    snapshotCount: num('snapshot-count'),
    maxSnapshots: num('max-snapshots'),
    maxWals: num('max-wals'),
    heartbeatIntervalMs: tick,
    electionTimeoutMs: election,
    initialElectionTickAdvance: bool('initial-election-tick-advance'),
    listenPeerUrls: urls('listen-peer-urls'),
    listenClientUrls: urls('listen-client-urls'),
    initialAdvertisePeerUrls: urls('initial-advertise-peer-urls'),
    advertiseClientUrls: urls('advertise-client-urls'),
    listenMetricsUrls: urls('listen-metrics-urls'),
    initialCluster,
    initialClusterState: clusterState,
    initialClusterToken: str('initial-cluster-token'),
    discovery: str('discovery'),
    discoveryFallback: str('discovery-fallback') as 'exit' | 'proxy',
    discoveryProxy: str('discovery-proxy'),
    discoverySrv: str('discovery-srv'),
    discoverySrvName: str('discovery-srv-name'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    preVote: bool('pre-vote'),
    enableV2: bool('enable-v2'),
    enableGrpcGateway: bool('enable-grpc-gateway'),
    autoCompactionMode: mode,
    autoCompactionRetentionText: str('auto-compaction-retention'),
    autoCompactionRetention: retention.value,
    quotaBackendBytes: num('quota-backend-bytes'),
    backendBatchIntervalMs: ms('backend-batch-interval'),
    backendBatchLimit: num('backend-batch-limit'),
    maxTxnOps: num('max-txn-ops'),
    maxRequestBytes: num('max-request-bytes'),
    maxConcurrentStreams: num('max-concurrent-streams'),
    grpcKeepAliveMinTimeMs: ms('grpc-keepalive-min-time'),
    grpcKeepAliveIntervalMs: ms('grpc-keepalive-interval'),
    grpcKeepAliveTimeoutMs: ms('grpc-keepalive-timeout'),
    clientTls: tls(values, ''),
    peerTls: tls(values, 'peer-'),
    cipherSuites: list('cipher-suites'),
    cors: list('cors'),
    hostWhitelist: list('host-whitelist'),
    authToken: str('auth-token'),
    bcryptCost: num('bcrypt-cost'),
    authTokenTtlSeconds: num('auth-token-ttl'),
    enablePprof: bool('enable-pprof'),
    metrics: str('metrics'),
    logger,
    logLevel: logLevel as ServerConfig['logLevel'],
    logOutputs,
    forceNewCluster: bool('force-new-cluster'),
    experimentalInitialCorruptCheck: bool('experimental-initial-corrupt-check'),
    experimentalCorruptCheckTimeMs: ms('experimental-corrupt-check-time'),
    experimentalEnableLeaseCheckpoint: bool('experimental-enable-lease-checkpoint'),
    experimentalCompactionBatchLimit: num('experimental-compaction-batch-limit'),
    experimentalWatchProgressNotifyIntervalMs: ms('experimental-watch-progress-notify-interval'),
    experimentalWarningApplyDurationMs: ms('experimental-warning-apply-duration'),
    proxy: str('proxy') as ServerConfig['proxy'],
    configFile,
  };
  return { ok: true, action: 'run', config, warnings };
}
