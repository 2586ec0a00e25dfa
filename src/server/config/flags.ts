/**
 * etcd 3.4's command-line flags (names, kinds, defaults) and a parser that reads them the way
 * Go's `flag` package does: `-flag`, `--flag`, `--flag=value`, `--flag value`; booleans take no
 * separate value; `--` ends the flags; the first non-flag argument ends them too. Error texts
 * are Go's, so scripts see what etcd prints.
 */

import { parseGoDuration } from './duration.js';
import { parseUrlList, type EtcdUrl } from './urls.js';

/** How a flag's text becomes a value. */
export type FlagKind =
  | 'string'
  | 'bool'
  | 'uint'
  | 'uint32'
  | 'uint64'
  | 'int'
  | 'int64'
  | 'duration'
  | 'urls'
  | 'choice'
  | 'strings'
  | 'unique-strings'
  | 'ignored';

/** A parsed flag value: text, switch, integer or nanoseconds, URL list, or string list. */
export type FlagValue = string | boolean | number | readonly EtcdUrl[] | readonly string[];

/** One flag: its name (also its YAML key and, upper-cased, its `ETCD_` variable), kind and default text. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** The default, written as on the command line. */
  readonly defaultText: string;
  /** Allowed values of a `choice` flag. */
  readonly choices?: readonly string[];
  /** Where `--help` lists it. */
  readonly group: string;
  /** One line for `--help`. */
  readonly help: string;
  /** False when a config file does not take it under this name. */
  readonly inFile?: boolean;
  /** How a config file writes it, when not as the flag's text (a YAML list for `log-outputs`). */
  readonly fileKind?: FlagKind;
  /** The default as `--help` shows it, when not the default text itself. */
  readonly helpDefault?: string;
}

const M = 'Member';
const C = 'Clustering';
const S = 'Security';
const A = 'Auth';
const P = 'Profiling and Monitoring';
const L = 'Logging';
const X = 'v2 Proxy';
const E = 'Experimental';
const U = 'Unsafe';
const H = 'hidden';

function f(name: string, kind: FlagKind, defaultText: string, group: string, help: string, extra: Partial<FlagSpec> = {}): FlagSpec {
  return { name, kind, defaultText, group, help, ...extra };
}

/** Every flag etcd 3.4 accepts, in `--help` order. */
export const FLAG_SPECS: readonly FlagSpec[] = [
  f('config-file', 'string', '', H, 'YAML file with the configuration; flags and environment are then ignored.', { inFile: false }),
  f('version', 'bool', 'false', H, 'Print the version and exit.', { inFile: false }),
  f('name', 'string', 'default', M, 'Name of this member, unique in the cluster.'),
  f('data-dir', 'string', '', M, "Directory for the member's data.", { helpDefault: '${name}.etcd' }),
  f('wal-dir', 'string', '', M, 'Separate directory for the write-ahead log.'),
  f('snapshot-count', 'uint64', '100000', M, 'Applied entries between two snapshots.'),
  f('heartbeat-interval', 'uint', '100', M, 'Milliseconds between leader heartbeats.'),
  f('election-timeout', 'uint', '1000', M, 'Milliseconds without a leader before a follower campaigns.'),
  f('initial-election-tick-advance', 'bool', 'true', M, 'Shorten the first election after boot.'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380', M, 'URLs to accept peer connections on.'),
  f('listen-client-urls', 'urls', 'http://localhost:2379', M, 'URLs to accept client connections on.'),
  f('max-snapshots', 'uint', '5', M, 'Snapshot files to keep (0 keeps all).'),
  f('max-wals', 'uint', '5', M, 'WAL files to keep (0 keeps all).'),
  f('quota-backend-bytes', 'int64', '0', M, 'Backend size that raises the space alarm (0 means 2 GiB).'),
  f('backend-batch-interval', 'duration', '0s', M, 'Longest wait before the backend commits a batch.'),
  f('backend-batch-limit', 'int', '0', M, 'Most operations before the backend commits a batch.'),
  f('max-txn-ops', 'uint', '128', M, 'Most operations in one transaction.'),
  f('max-request-bytes', 'uint', '1572864', M, 'Largest client request accepted, in bytes.'),
  f('max-concurrent-streams', 'uint32', '4294967295', M, 'Most concurrent streams per client connection.'),
  f('grpc-keepalive-min-time', 'duration', '5s', M, 'Shortest ping interval a client may use.'),
  f('grpc-keepalive-interval', 'duration', '2h', M, 'Server ping interval (0 disables).'),
  f('grpc-keepalive-timeout', 'duration', '20s', M, 'Wait for a ping answer before closing (0 disables).'),
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', C, 'Peer URLs this member advertises to the cluster.'),
  f('initial-cluster', 'string', 'default=http://localhost:2380', C, "Initial members as 'name=peerURL,...'."),
  f('initial-cluster-state', 'choice', 'new', C, "'new' to bootstrap a cluster, 'existing' to join one.", { choices: ['new', 'existing'] }),
  f('initial-cluster-token', 'string', 'etcd-cluster', C, 'Token that keeps member IDs of distinct clusters apart.'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379', C, 'Client URLs this member advertises.'),
  f('discovery', 'string', '', C, 'Discovery service URL (accepted, not supported).'),
  f('discovery-fallback', 'choice', 'proxy', C, "What to do when discovery fails: 'exit' or 'proxy'.", { choices: ['proxy', 'exit'] }),
  f('discovery-proxy', 'string', '', C, 'HTTP proxy for the discovery service.'),
  f('discovery-srv', 'string', '', C, 'DNS SRV domain to bootstrap from (accepted, not supported).'),
  f('discovery-srv-name', 'string', '', C, 'Suffix of the DNS SRV name.'),
  f('strict-reconfig-check', 'bool', 'true', C, 'Reject membership changes that could lose quorum.'),
  f('pre-vote', 'bool', 'false', C, 'Run the pre-vote phase before elections.'),
  f('auto-compaction-retention', 'string', '0', C, 'History to keep: a duration or hours (periodic), or revisions (revision); 0 disables.'),
  f('auto-compaction-mode', 'string', 'periodic', C, "How to read the retention: 'periodic' or 'revision'."),
  f('enable-v2', 'bool', 'false', C, 'Serve the v2 API.'),
  f('cert-file', 'string', '', S, 'Client TLS certificate file.', { inFile: false }),
  f('key-file', 'string', '', S, 'Client TLS key file.', { inFile: false }),
  f('client-cert-auth', 'bool', 'false', S, 'Require client certificates.', { inFile: false }),
  f('client-crl-file', 'string', '', S, 'Client certificate revocation list.', { inFile: false }),
  f('client-cert-allowed-hostname', 'string', '', S, 'Required host name in client certificates.', { inFile: false }),
  f('trusted-ca-file', 'string', '', S, 'CA bundle for client certificates.', { inFile: false }),
  f('auto-tls', 'bool', 'false', S, 'Serve clients with a generated certificate.', { inFile: false }),
  f('peer-cert-file', 'string', '', S, 'Peer TLS certificate file.', { inFile: false }),
  f('peer-key-file', 'string', '', S, 'Peer TLS key file.', { inFile: false }),
  f('peer-client-cert-auth', 'bool', 'false', S, 'Require peer certificates.', { inFile: false }),
  f('peer-trusted-ca-file', 'string', '', S, 'CA bundle for peer certificates.', { inFile: false }),
  f('peer-cert-allowed-cn', 'string', '', S, 'Required common name in peer certificates.', { inFile: false }),
  f('peer-cert-allowed-hostname', 'string', '', S, 'Required host name in peer certificates.', { inFile: false }),
  f('peer-auto-tls', 'bool', 'false', S, 'Talk to peers with a generated certificate.', { inFile: false }),
  f('peer-crl-file', 'string', '', S, 'Peer certificate revocation list.', { inFile: false }),
  f('cipher-suites', 'strings', '', S, 'Comma-separated TLS cipher suites (empty: the runtime default).'),
  f('cors', 'unique-strings', '*', S, "Comma-separated allowed CORS origins ('*' allows all)."),
  f('host-whitelist', 'unique-strings', '*', S, "Comma-separated accepted Host headers on insecure HTTP ('*' accepts all)."),
  f('auth-token', 'string', 'simple', A, "Token type: 'simple' or 'jwt,...'."),
  f('bcrypt-cost', 'uint', '10', A, 'bcrypt cost for password hashes (4 to 31).'),
  f('auth-token-ttl', 'uint', '300', A, 'Lifetime of simple tokens in seconds.'),
  f('enable-pprof', 'bool', 'false', P, 'Serve runtime profiles (accepted).'),
  f('metrics', 'string', 'basic', P, "Metrics detail: 'basic' or 'extensive'."),
  f('listen-metrics-urls', 'urls', '', P, 'Extra URLs serving only metrics and health.'),
  f('logger', 'string', 'capnslog', L, "'zap' or 'capnslog' (both write structured JSON lines here)."),
  f('log-outputs', 'unique-strings', 'default', L, "Comma-separated log targets: 'default', 'stderr', 'stdout' or file paths.", { fileKind: 'strings' }),
  f('log-output', 'unique-strings', 'default', H, 'Deprecated spelling of --log-outputs.', { fileKind: 'strings' }),
  f('log-level', 'string', 'info', L, 'One of debug, info, warn, error, panic, fatal.'),
  f('debug', 'bool', 'false', H, 'Deprecated: use --log-level=debug.'),
  f('log-package-levels', 'string', '', H, 'Deprecated capnslog per-package levels (ignored).'),
  f('proxy', 'choice', 'off', X, "v2 proxy mode: 'off', 'readonly' or 'on'.", { choices: ['off', 'readonly', 'on'] }),
  f('proxy-failure-wait', 'uint', '5000', X, 'Milliseconds an endpoint stays failed.'),
  f('proxy-refresh-interval', 'uint', '30000', X, 'Milliseconds between endpoint refreshes.'),
  f('proxy-dial-timeout', 'uint', '1000', X, 'Milliseconds before a dial times out.'),
  f('proxy-write-timeout', 'uint', '5000', X, 'Milliseconds before a write times out.'),
  f('proxy-read-timeout', 'uint', '0', X, 'Milliseconds before a read times out.'),
  f('enable-grpc-gateway', 'bool', 'true', H, 'Serve the gRPC JSON gateway.'),
  f('experimental-initial-corrupt-check', 'bool', 'false', E, 'Check data for corruption before serving.'),
  f('experimental-corrupt-check-time', 'duration', '0s', E, 'Interval between cluster corruption checks.'),
  f('experimental-enable-v2v3', 'string', '', E, 'Serve v2 through the v3 store under this prefix.'),
  f('experimental-backend-bbolt-freelist-type', 'string', 'array', E, 'Backend freelist type (accepted).'),
  f('experimental-enable-lease-checkpoint', 'bool', 'false', E, "Persist leases' remaining TTL."),
  f('experimental-compaction-batch-limit', 'int', '1000', E, 'Most revisions deleted per compaction batch.'),
  f('experimental-peer-skip-client-san-verification', 'bool', 'false', E, 'Skip SAN checks of peer client certificates.'),
  f('experimental-watch-progress-notify-interval', 'duration', '10m', E, 'Interval of watch progress notifications.'),
  f('experimental-warning-apply-duration', 'duration', '100ms', E, 'Warn about applies slower than this.'),
  f('force-new-cluster', 'bool', 'false', U, 'Start a one-member cluster from existing data.'),
  // Flags of etcd 2 that etcd 3.4 still accepts and ignores.
  ...['cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force', 'max-result-buffer',
    'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv']
    .map((name) => f(name, 'ignored', '', H, 'Ignored (etcd 2 flag).', { inFile: false })),
];

const SPEC_BY_NAME = new Map(FLAG_SPECS.map((s) => [s.name, s]));

/** Looks up a flag by name. */
export function flagSpec(name: string): FlagSpec | undefined {
  return SPEC_BY_NAME.get(name);
}

/** The environment variable of a flag: `initial-cluster-token` → `ETCD_INITIAL_CLUSTER_TOKEN`. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** Go's `strconv` integer parse with base prefixes (0x, 0o, 0b, leading 0) and `_` separators. */
function parseGoInteger(text: string, signed: boolean, bits: number): { ok: true; value: number } | { ok: false; error: string } {
  const syntax = { ok: false as const, error: 'parse error' };
  const range = { ok: false as const, error: 'value out of range' };
  let s = text;
  let negative = false;
  if (signed && s !== '' && (s[0] === '+' || s[0] === '-')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '') return syntax;
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (s[0] === '0' && s.length > 1) {
    const p = s[1]!.toLowerCase();
    if (p === 'x') [base, digits, prefixed] = [16, s.slice(2), true];
    else if (p === 'o') [base, digits, prefixed] = [8, s.slice(2), true];
    else if (p === 'b') [base, digits, prefixed] = [2, s.slice(2), true];
    else [base, digits] = [8, s.slice(1)];
  }
  // Underscores only between digits (or right after a base prefix), as Go's underscoreOK.
  if (digits.includes('_')) {
    if (!/^_?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(digits) || (digits.startsWith('_') && !prefixed && base !== 8)) return syntax;
    digits = digits.replaceAll('_', '');
  }
  if (digits === '') return syntax;
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  let value = 0n;
  for (const c of digits.toLowerCase()) {
    const d = alphabet.indexOf(c);
    if (d < 0) return syntax;
    value = value * BigInt(base) + BigInt(d);
  }
  const limit = signed ? (negative ? 1n << BigInt(bits - 1) : (1n << BigInt(bits - 1)) - 1n) : (1n << BigInt(bits)) - 1n;
  if (value > limit) return range;
  return { ok: true, value: Number(negative ? -value : value) };
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function splitUnique(text: string): string[] {
  return [...new Set(text.split(','))].sort();
}

/**
 * Applies a flag's text to its current value, as the flag's Go `Value.Set` does. Returns the new
 * value or the bare error (`parse error`, `invalid value`, a URL error). An empty URL list text
 * leaves the value unchanged, as etcd's URL flags treat it.
 */
export function setFlagValue(spec: FlagSpec, text: string, current: FlagValue | undefined): { ok: true; value: FlagValue } | { ok: false; error: string } {
  switch (spec.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'bool':
    case 'ignored': {
      const b = parseGoBool(text);
      return b === undefined ? { ok: false, error: 'parse error' } : { ok: true, value: b };
    }
    case 'uint':
    case 'uint64':
      return parseGoInteger(text, false, 64);
    case 'uint32':
      return parseGoInteger(text, false, 32);
    case 'int':
    case 'int64':
      return parseGoInteger(text, true, 64);
    case 'duration': {
      const d = parseGoDuration(text);
      return d.ok ? { ok: true, value: d.ns } : { ok: false, error: 'parse error' };
    }
    case 'urls': {
      if (text === '') return { ok: true, value: current ?? [] };
      const r = parseUrlList(text);
      return r.ok ? { ok: true, value: r.value } : r;
    }
    case 'choice':
      return spec.choices!.includes(text) ? { ok: true, value: text } : { ok: false, error: 'invalid value' };
    case 'strings':
      return { ok: true, value: text === '' ? [] : text.split(',') };
    case 'unique-strings':
      return { ok: true, value: splitUnique(text) };
  }
}

/** Every flag at its default. */
export function defaultFlagValues(): Map<string, FlagValue> {
  const values = new Map<string, FlagValue>();
  for (const spec of FLAG_SPECS) {
    const r = setFlagValue(spec, spec.defaultText === '' && spec.kind === 'ignored' ? 'false' : spec.defaultText, undefined);
    if (!r.ok) throw new Error(`bad default for --${spec.name}: ${r.error}`);
    values.set(spec.name, r.value);
  }
  return values;
}

/** The outcome of reading the command line. */
export type CommandLine =
  | { ok: true; help: false; values: Map<string, FlagValue>; set: Set<string>; positional: string[] }
  | { ok: true; help: true }
  | { ok: false; error: string };

const quote = JSON.stringify;

/**
 * Reads `argv` (without the program name) over the defaults, as Go's `FlagSet.Parse`:
 * stops at the first error, at `--`, or at the first argument that is not a flag.
 * `-h`/`-help` (when not defined otherwise) asks for help.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const values = defaultFlagValues();
  const set = new Set<string>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== '-') break;
    let dashes = 1;
    if (arg[1] === '-') {
      dashes = 2;
      if (arg.length === 2) {
        i++;
        break;
      }
    }
    let name = arg.slice(dashes);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') return { ok: false, error: `bad flag syntax: ${arg}` };
    i++;
    let value: string | undefined;
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = SPEC_BY_NAME.get(name);
    if (spec === undefined) {
      if (name === 'help' || name === 'h') return { ok: true, help: true };
      return { ok: false, error: `flag provided but not defined: -${name}` };
    }
    if (spec.kind === 'bool' || spec.kind === 'ignored') {
      const r = setFlagValue(spec, value ?? 'true', values.get(name));
      if (!r.ok) return { ok: false, error: `invalid boolean value ${quote(value)} for -${name}: ${r.error}` };
      values.set(name, r.value);
    } else {
      if (value === undefined) {
        if (i >= argv.length) return { ok: false, error: `flag needs an argument: -${name}` };
        value = argv[i++]!;
      }
      const r = setFlagValue(spec, value, values.get(name));
      if (!r.ok) return { ok: false, error: `invalid value ${quote(value)} for flag -${name}: ${r.error}` };
      values.set(name, r.value);
    }
    set.add(name);
  }
  return { ok: true, help: false, values, set, positional: argv.slice(i) };
}
