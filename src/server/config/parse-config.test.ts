import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCompactionRetention, parseConfig, type ParseConfigResult } from './parse-config.js';
import type { ServerConfig } from './server-config.js';

function run(argv: string[], env: Record<string, string | undefined> = {}): ServerConfig {
  const r = parseConfig(argv, env);
  assert.ok(r.ok && r.action === 'run', `expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}

function fails(argv: string[], env: Record<string, string | undefined> = {}): { error: string; exitCode: number } {
  const r: ParseConfigResult = parseConfig(argv, env);
  assert.ok(!r.ok, `expected an error, got ${JSON.stringify(r)}`);
  return { error: r.error, exitCode: r.exitCode };
}

const texts = (urls: readonly { text: string }[]): string[] => urls.map((u) => u.text);
const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function configFile(yaml: string): string {
  const path = join(dir, `c${fileCount++}.yml`);
  writeFileSync(path, yaml);
  return path;
}

test('defaults are etcd 3.4 defaults', () => {
  const c = run([]);
  assert.equal(c.name, 'default');
  assert.equal(c.dataDir, 'default.etcd');
  assert.equal(c.walDir, '');
  assert.deepEqual(texts(c.listenClientUrls), ['http://localhost:2379']);
  assert.deepEqual(texts(c.advertiseClientUrls), ['http://localhost:2379']);
  assert.deepEqual(texts(c.listenPeerUrls), ['http://localhost:2380']);
  assert.deepEqual(texts(c.initialAdvertisePeerUrls), ['http://localhost:2380']);
  assert.deepEqual(texts(c.listenMetricsUrls), []);
  assert.equal(c.initialCluster, 'default=http://localhost:2380');
  assert.equal(c.initialClusterState, 'new');
  assert.equal(c.initialClusterToken, 'etcd-cluster');
  assert.equal(c.snapshotCount, 100000);
  assert.equal(c.heartbeatIntervalMs, 100);
  assert.equal(c.electionTimeoutMs, 1000);
  assert.equal(c.quotaBackendBytes, 0);
  assert.equal(c.maxRequestBytes, 1572864);
  assert.equal(c.maxTxnOps, 128);
  assert.equal(c.maxSnapshots, 5);
  assert.equal(c.maxWals, 5);
  assert.equal(c.autoCompactionMode, 'periodic');
  assert.equal(c.autoCompactionRetention, 0);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.logger, 'capnslog');
  assert.deepEqual(c.logOutputs, ['default']);
  assert.equal(c.enableV2, false);
  assert.equal(c.strictReconfigCheck, true);
  assert.equal(c.preVote, false);
  assert.equal(c.forceNewCluster, false);
  assert.equal(c.grpcKeepAliveMinTimeMs, 5000);
  assert.equal(c.grpcKeepAliveIntervalMs, 7200000);
  assert.equal(c.grpcKeepAliveTimeoutMs, 20000);
  assert.equal(c.maxConcurrentStreams, 4294967295);
  assert.deepEqual(c.cors, ['*']);
  assert.equal(c.configFile, '');
});

test('a name alone makes the initial cluster <name>=<advertised peer URLs> and the data dir <name>.etcd', () => {
  const c = run(['--name', 'node-a', '--initial-advertise-peer-urls', 'http://127.0.0.1:23802,http://127.0.0.1:23801']);
  assert.equal(c.dataDir, 'node-a.etcd');
  assert.equal(c.initialCluster, 'node-a=http://127.0.0.1:23801,node-a=http://127.0.0.1:23802');
});

test('with the default name the default initial cluster stays, whatever the advertised URLs', () => {
  const c = run(['--initial-advertise-peer-urls', 'http://127.0.0.1:23851']);
  assert.equal(c.initialCluster, 'default=http://localhost:2380');
});

test('an explicit initial cluster is kept as written', () => {
  const c = run(['--name', 'a', '--initial-cluster', 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380']);
  assert.equal(c.initialCluster, 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380');
});

test('flag spellings: -flag, --flag, --flag=value, -flag=value, and bare booleans', () => {
  const c = run(['-name', 'a', '--data-dir=/d', '-snapshot-count=5', '--enable-v2', '-pre-vote', '--strict-reconfig-check=false', '--force-new-cluster=1']);
  assert.equal(c.name, 'a');
  assert.equal(c.dataDir, '/d');
  assert.equal(c.snapshotCount, 5);
  assert.equal(c.enableV2, true);
  assert.equal(c.preVote, true);
  assert.equal(c.strictReconfigCheck, false);
  assert.equal(c.forceNewCluster, true);
});

test('a repeated flag takes its last value', () => {
  assert.equal(run(['--name', 'a', '--name', 'b']).name, 'b');
});

test('integers take Go prefixes: 0x hex and leading-zero octal', () => {
  const c = run(['--max-txn-ops', '0x20', '--snapshot-count', '010']);
  assert.equal(c.maxTxnOps, 32);
  assert.equal(c.snapshotCount, 8);
});

test('URL lists are split, trimmed, normalized and sorted', () => {
  const c = run(['--listen-client-urls', ' HTTP://127.0.0.2:1 ,http://127.0.0.1:1', '--advertise-client-urls', 'http://b:1,http://a:1']);
  assert.deepEqual(texts(c.listenClientUrls), ['http://127.0.0.1:1', 'http://127.0.0.2:1']);
  assert.deepEqual(texts(c.advertiseClientUrls), ['http://a:1', 'http://b:1']);
});

test('an empty URL list value keeps the previous value, as etcd does', () => {
  assert.deepEqual(texts(run(['--advertise-client-urls', '']).advertiseClientUrls), ['http://localhost:2379']);
});

test('unix and https URLs are accepted; unix sockets need no IP', () => {
  const c = run(['--listen-client-urls', 'unix://etcd.sock:1,https://127.0.0.1:2', '--advertise-client-urls', 'https://127.0.0.1:2']);
  assert.deepEqual(texts(c.listenClientUrls), ['https://127.0.0.1:2', 'unix://etcd.sock:1']);
});

test('durations and units: keepalive flags take Go durations', () => {
  const c = run(['--grpc-keepalive-interval', '1m30s', '--grpc-keepalive-timeout', '1.5s', '--backend-batch-interval', '10ms']);
  assert.equal(c.grpcKeepAliveIntervalMs, 90000);
  assert.equal(c.grpcKeepAliveTimeoutMs, 1500);
  assert.equal(c.backendBatchIntervalMs, 10);
});

test('auto-compaction retention: bare numbers are hours (periodic) or revisions (revision)', () => {
  assert.equal(run(['--auto-compaction-retention', '1']).autoCompactionRetention, 3600000);
  assert.equal(run(['--auto-compaction-retention', '30m']).autoCompactionRetention, 1800000);
  assert.equal(run(['--auto-compaction-retention', '90m']).autoCompactionRetention, 5400000);
  const rev = run(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']);
  assert.equal(rev.autoCompactionMode, 'revision');
  assert.equal(rev.autoCompactionRetention, 1000);
  assert.equal(rev.autoCompactionRetentionText, '1000');
});

test('parseCompactionRetention reports etcd\'s errors', () => {
  assert.deepEqual(parseCompactionRetention('periodic', 'bad'), { ok: false, error: 'error parsing CompactionRetention: time: invalid duration "bad"' });
  assert.deepEqual(parseCompactionRetention('periodic', '-1'), { ok: false, error: 'error parsing CompactionRetention: time: missing unit in duration "-1"' });
  assert.deepEqual(parseCompactionRetention('revision', '5'), { ok: true, value: 5 });
});

test('logging flags: level, logger, outputs; --debug means debug level', () => {
  const c = run(['--logger', 'zap', '--log-level', 'warn', '--log-outputs', 'stderr,/tmp/x.log']);
  assert.equal(c.logger, 'zap');
  assert.equal(c.logLevel, 'warn');
  assert.deepEqual(c.logOutputs, ['/tmp/x.log', 'stderr']);
  const r = parseConfig(['--debug'], {});
  assert.ok(r.ok && r.action === 'run');
  assert.equal(r.config.logLevel, 'debug');
  assert.equal(r.warnings.length, 1);
});

test('accepted-only flags parse: discovery, pprof, metrics URLs, etcd 2 leftovers', () => {
  const c = run(['--enable-pprof', '--listen-metrics-urls', 'http://127.0.0.1:9000', '--v', '--discovery-proxy', 'http://p:1']);
  assert.equal(c.enablePprof, true);
  assert.deepEqual(texts(c.listenMetricsUrls), ['http://127.0.0.1:9000']);
  assert.equal(c.discoveryProxy, 'http://p:1');
  const d = run(['--discovery', 'https://discovery.example/abc']);
  assert.equal(d.discovery, 'https://discovery.example/abc');
  assert.equal(d.initialCluster, '', 'discovery replaces the default initial cluster');
});

test('help and version short-circuit', () => {
  assert.deepEqual(parseConfig(['--help'], {}), { ok: true, action: 'help' });
  assert.deepEqual(parseConfig(['-h'], {}), { ok: true, action: 'help' });
  assert.deepEqual(parseConfig(['--version'], {}), { ok: true, action: 'version' });
  assert.deepEqual(parseConfig(['--name', 'x', '-version'], {}), { ok: true, action: 'version' });
});

test('environment: ETCD_<FLAG> sets flags not on the command line', () => {
  const c = run(['--name', 'a'], { ETCD_INITIAL_CLUSTER_TOKEN: 'tok', ETCD_SNAPSHOT_COUNT: '7', ETCD_ENABLE_V2: 'true', ETCD_DATA_DIR: '' });
  assert.equal(c.initialClusterToken, 'tok');
  assert.equal(c.snapshotCount, 7);
  assert.equal(c.enableV2, true);
  assert.equal(c.dataDir, 'a.etcd', 'an empty variable does not count');
});

test('environment: listen-client-urls from the environment also requires advertise-client-urls', () => {
  const f = fails([], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:1' });
  assert.match(f.error, /--advertise-client-urls is required/);
});

test('precedence: a variable shadowed by a flag is an error, as in etcd 3.4', () => {
  assert.deepEqual(fails(['--name', 'a'], { ETCD_NAME: 'b' }), {
    error: 'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
    exitCode: 1,
  });
});

test('environment: unknown ETCD_ variables are warnings; etcd-ts\'s own ETCD_TS_ ones and others are ignored', () => {
  const r = parseConfig([], { ETCD_FOO: 'x', HOME: '/root', ETCD_TS_GRPC_SERVER: 'grpc-js' });
  assert.ok(r.ok && r.action === 'run');
  assert.deepEqual(r.warnings, ['unrecognized environment variable ETCD_FOO=x']);
});

test('environment: a bad value names the variable', () => {
  assert.deepEqual(fails([], { ETCD_HEARTBEAT_INTERVAL: 'abc' }), {
    error: "error verifying flags, invalid value \"abc\" for ETCD_HEARTBEAT_INTERVAL: parse error. See 'etcd-ts --help'.",
    exitCode: 1,
  });
  assert.match(fails([], { ETCD_INITIAL_CLUSTER_STATE: 'bogus' }).error, /invalid value "bogus" for ETCD_INITIAL_CLUSTER_STATE: invalid value/);
  assert.match(fails([], { ETCD_LISTEN_PEER_URLS: 'foo' }).error, /invalid value "foo" for ETCD_LISTEN_PEER_URLS: URL scheme must be http, https, unix, or unixs: foo/);
});

test('config file: keys are flag names, values JSON-typed', () => {
  const path = configFile([
    'name: fromfile',
    'data-dir: /var/lib/x',
    'listen-client-urls: http://127.0.0.1:23870',
    'advertise-client-urls: http://127.0.0.1:23870',
    'listen-peer-urls: http://127.0.0.1:23871',
    'initial-advertise-peer-urls: http://127.0.0.1:23871',
    'initial-cluster-token: tok',
    'snapshot-count: 42',
    'heartbeat-interval: 50',
    'election-timeout: 500',
    'enable-v2: true',
    'grpc-keepalive-interval: 3000000000',
    'log-outputs: [stderr]',
    'logger: zap',
    'auto-compaction-mode: revision',
    'auto-compaction-retention: "10"',
    'client-transport-security:',
    '  cert-file: /c.pem',
    '  client-cert-auth: true',
    'unknown-key: 5',
    '',
  ].join('\n'));
  const c = run(['--config-file', path]);
  assert.equal(c.name, 'fromfile');
  assert.equal(c.dataDir, '/var/lib/x');
  assert.deepEqual(texts(c.listenClientUrls), ['http://127.0.0.1:23870']);
  assert.equal(c.initialCluster, 'fromfile=http://127.0.0.1:23871');
  assert.equal(c.initialClusterToken, 'tok');
  assert.equal(c.snapshotCount, 42);
  assert.equal(c.heartbeatIntervalMs, 50);
  assert.equal(c.electionTimeoutMs, 500);
  assert.equal(c.enableV2, true);
  assert.equal(c.grpcKeepAliveIntervalMs, 3000);
  assert.deepEqual(c.logOutputs, ['stderr']);
  assert.equal(c.autoCompactionRetention, 10);
  assert.equal(c.clientTls.certFile, '/c.pem');
  assert.equal(c.clientTls.clientCertAuth, true);
  assert.equal(c.configFile, path);
});

test('config file: other flags and the environment are ignored (but still parsed)', () => {
  const path = configFile('name: fromfile\n');
  const c = run(['--config-file', path, '--name', 'flagname', '--snapshot-count', '3'], { ETCD_NAME: 'envname', ETCD_MAX_WALS: '9' });
  assert.equal(c.name, 'fromfile');
  assert.equal(c.snapshotCount, 100000);
  assert.equal(c.maxWals, 5);
  assert.equal(fails(['--config-file', path, '--bogus']).error, 'flag provided but not defined: -bogus');
});

test('config file: ETCD_CONFIG_FILE names it when the flag does not', () => {
  const path = configFile('name: fromenvfile\n');
  assert.equal(run(['--name', 'ignored'], { ETCD_CONFIG_FILE: path, ETCD_NAME: 'also-ignored' }).name, 'fromenvfile');
});

test('config file: errors in etcd\'s words', () => {
  const cases: [string, string, number][] = [
    ['listen-client-urls: foo\n', 'unexpected error setting up listen-client-urls: URL scheme must be http, https, unix, or unixs: foo', 1],
    ['heartbeat-interval: abc\n', "error verifying flags, error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint. See 'etcd-ts --help'.", 1],
    ['max-wals: -1\n', "error verifying flags, error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field configYAML.max-wals of type uint. See 'etcd-ts --help'.", 1],
    ['log-outputs: stderr\n', "error verifying flags, error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.log-outputs of type []string. See 'etcd-ts --help'.", 1],
    ['name: x\nelection-timeout: 100\n', "error verifying flags, --election-timeout[100ms] should be at least as 5 times as --heartbeat-interval[100ms]. See 'etcd-ts --help'.", 1],
    ['name: x\ninitial-cluster-state: bogus\n', "error verifying flags, unexpected clusterState \"bogus\". See 'etcd-ts --help'.", 1],
    ['proxy: sideways\n', 'unexpected error setting up proxyFlag: invalid value', 1],
  ];
  for (const [yaml, error, exitCode] of cases) {
    assert.deepEqual(fails(['--config-file', configFile(yaml)]), { error, exitCode }, yaml);
  }
  assert.match(fails(['--config-file', configFile('name: [\n')]).error, /^error verifying flags, error converting YAML to JSON: yaml: /);
  const missing = join(dir, 'missing.yml');
  assert.equal(fails(['--config-file', missing]).error, `error verifying flags, open ${missing}: no such file or directory. See 'etcd-ts --help'.`);
});

test('command-line errors: Go flag wording, exit code 2', () => {
  const cases: [string[], string][] = [
    [['--foo'], 'flag provided but not defined: -foo'],
    [['-foo=1'], 'flag provided but not defined: -foo'],
    [['---name', 'x'], 'bad flag syntax: ---name'],
    [['--name'], 'flag needs an argument: -name'],
    [['--heartbeat-interval', 'abc'], 'invalid value "abc" for flag -heartbeat-interval: parse error'],
    [['--heartbeat-interval', '-1'], 'invalid value "-1" for flag -heartbeat-interval: parse error'],
    [['--snapshot-count', '-1'], 'invalid value "-1" for flag -snapshot-count: parse error'],
    [['--quota-backend-bytes', 'abc'], 'invalid value "abc" for flag -quota-backend-bytes: parse error'],
    [['--max-concurrent-streams', '4294967296'], 'invalid value "4294967296" for flag -max-concurrent-streams: value out of range'],
    [['--grpc-keepalive-interval', '5x'], 'invalid value "5x" for flag -grpc-keepalive-interval: parse error'],
    [['--enable-v2=maybe'], 'invalid boolean value "maybe" for -enable-v2: parse error'],
    [['--initial-cluster-state', 'bogus'], 'invalid value "bogus" for flag -initial-cluster-state: invalid value'],
    [['--listen-client-urls', 'foo'], 'invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo'],
    [['--listen-client-urls', 'ftp://127.0.0.1:1'], 'invalid value "ftp://127.0.0.1:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
    [['--listen-client-urls', 'http://127.0.0.1'], 'invalid value "http://127.0.0.1" for flag -listen-client-urls: URL address does not have the form "host:port": http://127.0.0.1'],
    [['--initial-advertise-peer-urls', 'http://127.0.0.1:1/path'], 'invalid value "http://127.0.0.1:1/path" for flag -initial-advertise-peer-urls: URL must not contain a path: http://127.0.0.1:1/path'],
    [['--listen-client-urls', '127.0.0.1:2379'], 'invalid value "127.0.0.1:2379" for flag -listen-client-urls: parse "127.0.0.1:2379": first path segment in URL cannot contain colon'],
    [['--listen-client-urls', 'http://a:x'], 'invalid value "http://a:x" for flag -listen-client-urls: parse "http://a:x": invalid port ":x" after host'],
    [['--listen-client-urls', 'http://[::1'], 'invalid value "http://[::1" for flag -listen-client-urls: parse "http://[::1": missing \']\' in host'],
    [['--log-level', 'FOO'], 'unknown level "FOO"'],
  ];
  for (const [argv, error] of cases) assert.deepEqual(fails(argv), { error, exitCode: 2 }, argv.join(' '));
});

test('validation errors: etcd\'s rules and wording, exit code 1', () => {
  const v = (msg: string): string => `error verifying flags, ${msg}. See 'etcd-ts --help'.`;
  const cases: [string[], string][] = [
    [['--election-timeout', '400'], v('--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]')],
    [['--heartbeat-interval', '300', '--election-timeout', '500'], v('--election-timeout[500ms] should be at least as 5 times as --heartbeat-interval[300ms]')],
    [['--heartbeat-interval', '0'], v('--heartbeat-interval must be >0 (set to 0ms)')],
    [['--election-timeout', '0'], v('--election-timeout must be >0 (set to 0ms)')],
    [['--election-timeout', '50001'], v('--election-timeout[50001ms] is too long, and should be set less than 50000ms')],
    [['--enable-v2', 'false'], v("'false' is not a valid flag")],
    [['extra'], v("'extra' is not a valid flag")],
    [['--', '--name'], v("'--name' is not a valid flag")],
    [['--listen-client-urls', 'http://127.0.0.1:1'], v('--advertise-client-urls is required when --listen-client-urls is set explicitly')],
    [['--listen-client-urls', 'http://example.com:1', '--advertise-client-urls', 'http://a:1'], v('expected IP in URL for binding (http://example.com:1)')],
    [['--listen-peer-urls', 'http://:1'], v('expected IP in URL for binding (http://:1)')],
    [['--initial-advertise-peer-urls', 'http://:1'], v('--initial-advertise-peer-urls "http://:1" must be "host:port" (unexpected empty host (http://:1))')],
    [['--logger', 'foo'], v('unknown logger option "foo"')],
    [['--log-outputs', 'foo'], v('unknown log-output "foo" (only supports "default", "stderr", "stdout")')],
    [['--log-outputs', 'stderr,stdout'], v('--logger=capnslog supports only 1 value in \'--log-outputs\', got ["stderr" "stdout"]')],
    [['--auto-compaction-mode', 'foo'], v('unknown auto-compaction-mode "foo"')],
    [['--discovery', 'http://d:1', '--initial-cluster', 'a=http://a:1'], v('multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"')],
    [['--auto-compaction-retention', '1.5'], 'error parsing CompactionRetention: time: missing unit in duration "1.5"'],
  ];
  for (const [argv, error] of cases) assert.deepEqual(fails(argv), { error, exitCode: 1 }, argv.join(' '));
});

test('an election timeout of exactly 50000ms and exactly 5 heartbeats is accepted', () => {
  assert.equal(run(['--election-timeout', '50000']).electionTimeoutMs, 50000);
  assert.equal(run(['--heartbeat-interval', '200', '--election-timeout', '1000']).heartbeatIntervalMs, 200);
});

test('the first command-line error wins, before help is seen', () => {
  assert.equal(fails(['--foo', '--help']).error, 'flag provided but not defined: -foo');
  assert.deepEqual(parseConfig(['--help', '--foo'], {}), { ok: true, action: 'help' });
});
