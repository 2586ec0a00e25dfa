/**
 * The YAML config file (`--config-file`), read as etcd 3.4 reads it: the keys are the flag
 * names, values have JSON types (numbers for counts and for durations in nanoseconds, lists for
 * `log-outputs` and `cipher-suites`, comma-separated strings for URL lists), TLS settings sit
 * under `client-transport-security` / `peer-transport-security`, and unknown keys are ignored.
 * Errors carry the texts etcd prints.
 */

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { flagSpec, type FlagKind, type FlagValue } from './flags.js';
import { parseUrlList } from './urls.js';

/** A file failure: the text, and whether etcd reports it as a flag verification error. */
export interface FileError {
  readonly error: string;
  /** True when etcd prints it as "error verifying flags, ...". */
  readonly verifying: boolean;
}

const GO_TYPE: Partial<Record<FlagKind, string>> = {
  string: 'string',
  choice: 'string',
  bool: 'bool',
  uint: 'uint',
  uint32: 'uint32',
  uint64: 'uint64',
  int: 'int',
  int64: 'int64',
  duration: 'time.Duration',
  strings: '[]string',
};

/** Keys whose comma-separated string is a URL list; the name etcd uses in its error. */
const URL_KEYS: Record<string, string> = {
  'listen-peer-urls': 'listen-peer-urls',
  'listen-client-urls': 'listen-client-urls',
  'initial-advertise-peer-urls': 'initial-advertise-peer-urls',
  // etcd 3.4 names this key wrongly in its error; we print what it prints.
  'advertise-client-urls': 'advertise-peer-urls',
  'listen-metrics-urls': 'listen-metrics-urls',
};

const TLS_KEYS: Record<string, { prefix: string }> = {
  'client-transport-security': { prefix: '' },
  'peer-transport-security': { prefix: 'peer-' },
};

/** File TLS field → the flag it stands for (with the side's prefix). */
const TLS_FIELDS: Record<string, { flag: string; kind: FlagKind }> = {
  'cert-file': { flag: 'cert-file', kind: 'string' },
  'key-file': { flag: 'key-file', kind: 'string' },
  'client-cert-auth': { flag: 'client-cert-auth', kind: 'bool' },
  'trusted-ca-file': { flag: 'trusted-ca-file', kind: 'string' },
  'auto-tls': { flag: 'auto-tls', kind: 'bool' },
};

function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'object';
  return 'string';
}

function typeError(v: unknown, field: string, goType: string): FileError {
  const what = typeof v === 'number' ? `number ${v}` : jsonTypeOf(v);
  return {
    error: `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go struct field ${field} of type ${goType}`,
    verifying: true,
  };
}

/** Converts one YAML value for a flag of `kind`; `field` names it in errors. */
function convert(kind: FlagKind, v: unknown, field: string): { ok: true; value: FlagValue } | ({ ok: false } & FileError) {
  const goType = GO_TYPE[kind] ?? 'string';
  const fail = (): { ok: false } & FileError => ({ ok: false, ...typeError(v, field, goType) });
  switch (kind) {
    case 'string':
    case 'choice':
    case 'unique-strings':
      // Scalars become their text for string fields, as etcd's YAML-to-JSON step does.
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: String(v) };
      return fail();
    case 'bool':
      return typeof v === 'boolean' ? { ok: true, value: v } : fail();
    case 'uint':
    case 'uint32':
    case 'uint64':
    case 'int':
    case 'int64':
    case 'duration': {
      if (typeof v !== 'number' || !Number.isInteger(v)) return fail();
      const unsigned = kind === 'uint' || kind === 'uint32' || kind === 'uint64';
      if (unsigned && v < 0) return fail();
      if (kind === 'uint32' && v > 0xffffffff) return fail();
      return { ok: true, value: v };
    }
    case 'strings':
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { ok: true, value: v as string[] };
      return fail();
    default:
      return fail();
  }
}

function readError(path: string, err: unknown): FileError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
  return { error: `${code === 'EISDIR' ? 'read' : 'open'} ${path}: ${why}`, verifying: true };
}

/**
 * Reads the config file at `path` over `values` (flag defaults). Returns the keys it set, or
 * the first error. String values of string-valued flags are stored as their raw text, to be
 * interpreted by the caller exactly like flag text.
 */
export function applyConfigFile(path: string, values: Map<string, FlagValue>): { ok: true; set: Set<string> } | ({ ok: false } & FileError) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, ...readError(path, err) };
  }
  let doc: unknown;
  try {
    // YAML 1.1 reads yes/no/on/off as booleans, as etcd's YAML library does.
    doc = parseYaml(text, { version: '1.1' });
  } catch (err) {
    const firstLine = String((err as Error).message).split('\n')[0];
    return { ok: false, error: `error converting YAML to JSON: yaml: ${firstLine}`, verifying: true };
  }
  const set = new Set<string>();
  if (doc === null || doc === undefined) return { ok: true, set };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, error: `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonTypeOf(doc)} into Go value of type embed.configYAML`, verifying: true };
  }
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v === null) continue;
    const field = `configYAML.${key}`;
    const urlName = URL_KEYS[key];
    if (urlName !== undefined) {
      if (typeof v !== 'string') return { ok: false, ...typeError(v, field, 'string') };
      if (v === '') continue;
      const r = parseUrlList(v);
      if (!r.ok) return { ok: false, error: `unexpected error setting up ${urlName}: ${r.error}`, verifying: false };
      values.set(key, r.value);
      set.add(key);
      continue;
    }
    const tls = TLS_KEYS[key];
    if (tls !== undefined) {
      if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, ...typeError(v, field, 'embed.securityConfig') };
      for (const [k, tv] of Object.entries(v as Record<string, unknown>)) {
        const target = TLS_FIELDS[k];
        if (target === undefined || tv === null) continue;
        const r = convert(target.kind, tv, `configYAML.${key}.${k}`);
        if (!r.ok) return r;
        const flag = `${tls.prefix}${target.flag}`;
        values.set(flag, r.value);
        set.add(flag);
      }
      continue;
    }
    const spec = flagSpec(key);
    if (spec === undefined || spec.inFile === false || spec.kind === 'ignored' || spec.kind === 'urls') continue;
    const kind = spec.fileKind ?? spec.kind;
    const r = convert(kind, v, field);
    if (!r.ok) return r;
    let value = r.value;
    if (kind === 'unique-strings') value = [...new Set(String(value).split(','))].sort();
    values.set(key, value);
    set.add(key);
  }
  return { ok: true, set };
}
