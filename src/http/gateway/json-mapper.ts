/**
 * The JSON mapping of etcd 3.4's grpc-gateway (golang/protobuf jsonpb with `OrigName: true`,
 * `EmitDefaults: false`), driven by the generated field table of src/api/gen/json-names.ts.
 *
 * Input (parsed by exact-json's parseJsonExact, so numbers that are not short integers arrive as
 * their literal) accepts proto names and json names, bytes as standard base64, integers as
 * strings or numbers, enums as names or numbers, `null` as absent; unknown fields are ignored
 * (grpc-gateway's AllowUnknownFields). Wrong types get Go's `encoding/json` texts.
 * Output uses proto names in declaration order, 64-bit integers as strings, bytes as base64, enum
 * names, and leaves out zero scalars, empty lists and absent messages; a set oneof member is
 * always written, even at its zero value (jsonpb checks zero values before it unwraps a oneof).
 */
import { JSON_ENUMS, JSON_MESSAGES, type JsonField } from '../../api/gen/json-names.js';
import { rawNumberText } from './exact-json.js';
import { goQuoteChar, scanGoJsonValue } from './go-json-scan.js';

/** A request body the mapping rejects; the gateway answers it as INVALID_ARGUMENT. */
export class JsonMappingError extends Error {
  override readonly name = 'JsonMappingError';
}

// Per message type: its fields keyed by both proto name and json name.
const fieldsByKey = new Map<string, Map<string, JsonField>>();

function fieldsOf(typeName: string): readonly JsonField[] {
  const fields = JSON_MESSAGES[typeName];
  if (fields === undefined) throw new Error(`no JSON table for message ${typeName}`);
  return fields;
}

function lookupTable(typeName: string): Map<string, JsonField> {
  let table = fieldsByKey.get(typeName);
  if (table === undefined) {
    table = new Map();
    for (const f of fieldsOf(typeName)) {
      table.set(f.name, f);
      table.set(f.prop, f);
    }
    fieldsByKey.set(typeName, table);
  }
  return table;
}

/** Go's name of a generated enum type: package, then nested names joined by '_'. */
function goEnumName(typeName: string): string {
  const [pkg, ...rest] = typeName.split('.');
  return `${pkg}.${rest.join('_')}`;
}

function defaultOf(f: JsonField): unknown {
  if (f.repeated) return [];
  if (f.optional) return undefined;
  switch (f.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'int64':
    case 'uint64':
      return f.bigint ? 0n : 0;
    default:
      return 0;
  }
}

/**
 * Builds the message `typeName` from parsed JSON (`null`/`undefined`: all defaults). Throws
 * {@link JsonMappingError} with jsonpb's text where it is known.
 */
export function messageFromJson<T>(typeName: string, json: unknown): T {
  const fields = fieldsOf(typeName);
  const m: Record<string, unknown> = {};
  for (const f of fields) m[f.prop] = defaultOf(f);
  if (json === null || json === undefined) return m as T;
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(json)} into Go value of type map[string]json.RawMessage`);
  }
  const table = lookupTable(typeName);
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const f = table.get(key);
    if (f === undefined || value === null) continue;
    if (f.repeated) {
      if (!Array.isArray(value)) throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(value)} into Go value of type []json.RawMessage`);
      m[f.prop] = value.map((v) => valueFromJson(f, v));
    } else {
      if (f.oneof !== undefined) for (const o of fields) if (o.oneof === f.oneof) m[o.prop] = undefined;
      m[f.prop] = valueFromJson(f, value);
    }
  }
  return m as T;
}

function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (rawNumberText(v) !== undefined) return 'number';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

const INTEGER = /^-?\d+$/;
const GO_SCALAR_TYPES = { bool: 'bool', string: 'string', bytes: '[]uint8' } as const;
const BASE64 = /^[A-Za-z0-9+/]*$/;

function valueFromJson(f: JsonField, v: unknown): unknown {
  // A number literal kept as text is a number, whatever its JavaScript type.
  const isRaw = rawNumberText(v) !== undefined;
  if (isRaw && (f.kind === 'bool' || f.kind === 'string' || f.kind === 'bytes')) {
    throw new JsonMappingError(`json: cannot unmarshal number into Go value of type ${GO_SCALAR_TYPES[f.kind]}`);
  }
  switch (f.kind) {
    case 'message':
      return messageFromJson(f.type ?? '', v);
    case 'bool':
      if (typeof v !== 'boolean') throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type bool`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type string`);
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type []uint8`);
      return base64Decode(v);
    case 'enum':
      return enumFromJson(f.type ?? '', v);
    case 'int64':
    case 'uint64':
      return int64FromJson(f, v);
    default:
      return int32FromJson(f, v);
  }
}

/** Standard base64 with padding, as Go's encoding/json decodes []byte. */
function base64Decode(s: string): Uint8Array {
  const body = s.replace(/={1,2}$/, '');
  const bad = BASE64.test(body) ? (s.length % 4 === 0 ? -1 : s.length - (s.length % 4)) : body.search(/[^A-Za-z0-9+/]/);
  if (bad >= 0) throw new JsonMappingError(`illegal base64 data at input byte ${bad}`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function enumFromJson(typeName: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  const raw = rawNumberText(v);
  if (raw !== undefined) throw new JsonMappingError(`json: cannot unmarshal number ${raw} into Go value of type ${goEnumName(typeName)}`);
  const values = JSON_ENUMS[typeName];
  if (typeof v === 'string' && values !== undefined && Object.hasOwn(values, v)) return values[v];
  throw new JsonMappingError(`unknown value ${JSON.stringify(v)} for enum ${goEnumName(typeName)}`);
}

/**
 * The integer literal of `v` for a field of Go type `goType`. jsonpb takes a quoted integer by
 * dropping the quotes and unmarshalling the text inside as JSON, so `"12"` is 12, `"1.5"` is a
 * non-integer number, `"x"` a syntax error and `"null"` zero.
 */
function integerText(v: unknown, goType: string): string {
  if (typeof v === 'number') return String(v);
  const raw = rawNumberText(v);
  if (raw !== undefined) {
    if (INTEGER.test(raw)) return raw;
    throw new JsonMappingError(`json: cannot unmarshal number ${raw} into Go value of type ${goType}`);
  }
  if (typeof v === 'string') {
    if (INTEGER.test(v)) return v;
    return unmarshalIntegerText(v, goType);
  }
  throw new JsonMappingError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type ${goType}`);
}

/** Go's json.Unmarshal of `text` into an integer of type `goType`: the literal, or Go's error. */
function unmarshalIntegerText(text: string, goType: string): string {
  const scan = scanGoJsonValue(text, 0, true);
  if (scan.kind === 'eof' || (scan.kind === 'error' && scan.message === 'unexpected EOF')) throw new JsonMappingError('unexpected end of JSON input');
  if (scan.kind === 'error') throw new JsonMappingError(scan.message);
  if (scan.kind === 'incomplete') throw new JsonMappingError('unexpected end of JSON input');
  const rest = text.slice(scan.end).replace(/^[ \t\n\r]+/, '');
  if (rest !== '') throw new JsonMappingError(`invalid character ${goQuoteChar(String.fromCodePoint(rest.codePointAt(0)!))} after top-level value`);
  const literal = text.slice(scan.start, scan.end);
  const c = literal[0]!;
  if (c === '-' || (c >= '0' && c <= '9')) {
    if (INTEGER.test(literal)) return literal;
    throw new JsonMappingError(`json: cannot unmarshal number ${literal} into Go value of type ${goType}`);
  }
  if (c === 'n') return '0';
  const kind = c === '"' ? 'string' : c === '{' ? 'object' : c === '[' ? 'array' : 'bool';
  throw new JsonMappingError(`json: cannot unmarshal ${kind} into Go value of type ${goType}`);
}

const LIMITS = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
} as const;

function checkedInteger(f: JsonField, v: unknown): bigint {
  const kind = f.kind as keyof typeof LIMITS;
  const text = integerText(v, kind);
  const n = BigInt(text);
  const [lo, hi] = LIMITS[kind];
  if (n < lo || n > hi) throw new JsonMappingError(`json: cannot unmarshal number ${text} into Go value of type ${kind}`);
  return n;
}

function int64FromJson(f: JsonField, v: unknown): bigint | number {
  const n = checkedInteger(f, v);
  return f.bigint ? n : Number(n);
}

function int32FromJson(f: JsonField, v: unknown): number {
  return Number(checkedInteger(f, v));
}

/** The JSON text of message `m` of type `typeName`, as etcd's gateway writes it. */
export function messageToJson(typeName: string, m: object): string {
  const parts: string[] = [];
  writeMessage(typeName, m as Record<string, unknown>, parts);
  return parts.join('');
}

function writeMessage(typeName: string, m: Record<string, unknown>, out: string[]): void {
  out.push('{');
  let first = true;
  for (const f of fieldsOf(typeName)) {
    const v = m[f.prop];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      const list = v as unknown[];
      if (list.length === 0) continue;
      out.push(first ? '"' : ',"', f.name, '":[');
      for (let i = 0; i < list.length; i++) {
        if (i > 0) out.push(',');
        writeValue(f, list[i], out);
      }
      out.push(']');
    } else {
      if (f.oneof === undefined && !f.optional && isZero(f, v)) continue;
      out.push(first ? '"' : ',"', f.name, '":');
      writeValue(f, v, out);
    }
    first = false;
  }
  out.push('}');
}

function isZero(f: JsonField, v: unknown): boolean {
  switch (f.kind) {
    case 'bytes':
      return (v as Uint8Array).length === 0;
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    default:
      return v === 0 || v === 0n;
  }
}

function writeValue(f: JsonField, v: unknown, out: string[]): void {
  switch (f.kind) {
    case 'message':
      writeMessage(f.type ?? '', v as Record<string, unknown>, out);
      return;
    case 'bytes': {
      const b = v as Uint8Array;
      out.push('"', Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'), '"');
      return;
    }
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'bool':
      out.push(v ? 'true' : 'false');
      return;
    case 'enum':
      out.push(enumName(f.type ?? '', v as number));
      return;
    case 'int64':
    case 'uint64':
      out.push('"', String(v), '"');
      return;
    default:
      out.push(String(v));
  }
}

// Per enum type: number to quoted name (the first name wins for aliases, as in Go's maps).
const enumNames = new Map<string, Map<number, string>>();

function enumName(typeName: string, n: number): string {
  let names = enumNames.get(typeName);
  if (names === undefined) {
    names = new Map();
    for (const [k, v] of Object.entries(JSON_ENUMS[typeName] ?? {})) if (!names.has(v)) names.set(v, JSON.stringify(k));
    enumNames.set(typeName, names);
  }
  return names.get(n) ?? String(n);
}
