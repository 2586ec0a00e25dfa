#!/usr/bin/env node
// Regenerates src/api/gen/ from proto/: one TypeScript file per proto package (interfaces, enums,
// and protobufjs Reader/Writer based codecs), services.ts (gRPC method table with gateway routes)
// runtime.ts (the helpers the codecs share) and json-names.ts (field names and kinds for the JSON
// gateway).
//
// Usage: node scripts/gen-proto.mjs [--out <dir>]   (default: src/api/gen)
//
// 64-bit integers: fields listed in BIGINT_FIELDS (member, cluster, lease and request IDs, v2
// nanosecond times) become `bigint`; every other int64/uint64 (revisions, terms, indexes, TTLs,
// counts, sizes) becomes `number`, exact up to 2^53. A 64-bit field whose name looks like an ID but
// is in neither list stops the generator, so a new ID field cannot silently become a lossy number.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'proto');
const outArg = process.argv.indexOf('--out');
const outDir = outArg >= 0 ? resolve(process.argv[outArg + 1]) : join(root, 'src', 'api', 'gen');

// raftpb is parsed (so the contract stays valid) but not generated: src/api/raftpb has its own
// hand-written codec for the raft hot path.
const PROTO_FILES = [
  'mvccpb/kv.proto',
  'authpb/auth.proto',
  'etcdserverpb/rpc.proto',
  'etcdserverpb/etcdserver.proto',
  'etcdserverpb/raft_internal.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
  'raftpb/raft.proto',
];
const GENERATED_PACKAGES = ['mvccpb', 'authpb', 'etcdserverpb', 'v3lockpb', 'v3electionpb'];

const BIGINT_FIELDS = new Set([
  'etcdserverpb.ResponseHeader.cluster_id',
  'etcdserverpb.ResponseHeader.member_id',
  'etcdserverpb.PutRequest.lease',
  'etcdserverpb.Compare.lease',
  'etcdserverpb.LeaseGrantRequest.ID',
  'etcdserverpb.LeaseGrantResponse.ID',
  'etcdserverpb.LeaseRevokeRequest.ID',
  'etcdserverpb.LeaseCheckpoint.ID',
  'etcdserverpb.LeaseKeepAliveRequest.ID',
  'etcdserverpb.LeaseKeepAliveResponse.ID',
  'etcdserverpb.LeaseTimeToLiveRequest.ID',
  'etcdserverpb.LeaseTimeToLiveResponse.ID',
  'etcdserverpb.LeaseStatus.ID',
  'etcdserverpb.Member.ID',
  'etcdserverpb.MemberRemoveRequest.ID',
  'etcdserverpb.MemberUpdateRequest.ID',
  'etcdserverpb.MemberPromoteRequest.ID',
  'etcdserverpb.AlarmRequest.memberID',
  'etcdserverpb.AlarmMember.memberID',
  'etcdserverpb.StatusResponse.leader',
  'etcdserverpb.MoveLeaderRequest.targetID',
  'etcdserverpb.RequestHeader.ID',
  'etcdserverpb.InternalRaftRequest.ID',
  'etcdserverpb.Request.ID',
  'etcdserverpb.Request.Expiration',
  'etcdserverpb.Request.Time',
  'etcdserverpb.Metadata.NodeID',
  'etcdserverpb.Metadata.ClusterID',
  'mvccpb.KeyValue.lease',
  'v3lockpb.LockRequest.lease',
  'v3electionpb.CampaignRequest.lease',
  'v3electionpb.LeaderKey.lease',
]);
// 64-bit fields named like IDs that are small per-stream counters, not 64-bit identities.
const NUMBER_IDS = new Set([
  'etcdserverpb.WatchCreateRequest.watch_id',
  'etcdserverpb.WatchCancelRequest.watch_id',
  'etcdserverpb.WatchResponse.watch_id',
]);
const looksLikeId = (name) => /(^|_)id$/i.test(name) || /ID$/.test(name) || name === 'lease' || name === 'leader';

// ---- load

const pbRoot = new protobuf.Root();
pbRoot.resolvePath = (_origin, target) => join(protoDir, target);
for (const f of PROTO_FILES) pbRoot.loadSync(f, { keepCase: true, alternateCommentMode: true });
pbRoot.resolveAll();

const fqn = (t) => t.fullName.replace(/^\./, '');
const pkgOf = (t) => fqn(t).split('.')[0];
/** TS name of a type: nested names joined by '_' (RangeRequest_SortOrder). */
const tsTypeName = (t) => fqn(t).split('.').slice(1).join('_');
/** protoc's JSON name: drop underscores, upper-case the letter after each. */
const tsFieldName = (name) => name.replace(/_+([a-zA-Z0-9])/g, (_m, c) => c.toUpperCase());
const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);

function collect(ns, types, enums, services) {
  for (const n of ns.nestedArray) {
    if (n instanceof protobuf.Type) types.push(n);
    else if (n instanceof protobuf.Enum) enums.push(n);
    else if (n instanceof protobuf.Service) services.push(n);
    if (n.nestedArray && !(n instanceof protobuf.Service)) collect(n, types, enums, services);
  }
}

const seenBigint = new Set();
function longKind(type, field) {
  const key = `${fqn(type)}.${field.name}`;
  if (BIGINT_FIELDS.has(key)) {
    seenBigint.add(key);
    return 'bigint';
  }
  if (looksLikeId(field.name) && !NUMBER_IDS.has(key)) {
    throw new Error(`${key} (${field.type}) looks like an ID: list it in BIGINT_FIELDS or NUMBER_IDS`);
  }
  return 'number';
}

// ---- per-field code

const VARINT = 0;
const LEN = 2;
const tagOf = (id, wire) => ((id << 3) | wire) >>> 0;

/**
 * Describes how one field (or one element of a repeated field) is typed, read and written.
 * `ref(t)` names a message or enum type (package-qualified when it lives in another package);
 * `use(name)` records a runtime helper the file must import.
 */
function fieldInfo(type, field, ref, use) {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    const name = ref(t);
    return { ts: name.type, kind: 'message', wire: LEN, def: 'undefined', read: `${name.read}(r, r.uint32() + r.pos)`, msg: name };
  }
  if (t instanceof protobuf.Enum) {
    const name = ref(t);
    const first = Object.keys(t.values)[0];
    return { ts: name.type, kind: 'scalar', wire: VARINT, def: `${name.type}.${first}`, read: `r.int32()`, write: (v) => `w.int32(${v})`, size: (v) => `int32Size(${v})`, put: (v) => `pos = putInt32(b, pos, ${v})`, sized: ['int32Size', 'putInt32'], nonZero: (v) => `${v} !== 0` };
  }
  switch (field.type) {
    case 'bool':
      return { ts: 'boolean', kind: 'scalar', wire: VARINT, def: 'false', read: 'r.bool()', write: (v) => `w.bool(${v})`, size: () => '1', put: (v) => `b[pos++] = ${v} ? 1 : 0`, sized: [], nonZero: (v) => v };
    case 'string':
      return { ts: 'string', kind: 'scalar', wire: LEN, def: "''", read: 'r.string()', write: (v) => `w.string(${v})`, size: (v) => `stringSize(${v})`, put: (v) => `pos = putString(b, pos, ${v})`, sized: ['stringSize', 'putString'], nonZero: (v) => `${v} !== ''` };
    case 'bytes':
      use('EMPTY_BYTES');
      return { ts: 'Uint8Array', kind: 'scalar', wire: LEN, def: 'EMPTY_BYTES', read: 'r.bytes()', write: (v) => `w.bytes(${v})`, size: (v) => `bytesSize(${v})`, put: (v) => `pos = putBytes(b, pos, ${v})`, sized: ['bytesSize', 'putBytes'], nonZero: (v) => `${v}.length !== 0` };
    case 'uint32':
      return { ts: 'number', kind: 'scalar', wire: VARINT, def: '0', read: 'r.uint32()', write: (v) => `w.uint32(${v})`, size: (v) => `varint32Size(${v} >>> 0)`, put: (v) => `pos = putVarint32(b, pos, ${v} >>> 0)`, sized: ['varint32Size', 'putVarint32'], nonZero: (v) => `${v} !== 0` };
    case 'int32':
      return { ts: 'number', kind: 'scalar', wire: VARINT, def: '0', read: 'r.int32()', write: (v) => `w.int32(${v})`, size: (v) => `int32Size(${v})`, put: (v) => `pos = putInt32(b, pos, ${v})`, sized: ['int32Size', 'putInt32'], nonZero: (v) => `${v} !== 0` };
    case 'int64':
    case 'uint64': {
      const signed = field.type === 'int64' ? 'Int64' : 'Uint64';
      if (longKind(type, field) === 'bigint') {
        use(`read${signed}BigInt`);
        use('writeBigInt64');
        return { ts: 'bigint', kind: 'scalar', wire: VARINT, def: '0n', read: `read${signed}BigInt(r)`, write: (v) => `writeBigInt64(w, ${v})`, size: (v) => `bigInt64Size(${v})`, put: (v) => `pos = putBigInt64(b, pos, ${v})`, sized: ['bigInt64Size', 'putBigInt64'], nonZero: (v) => `${v} !== 0n` };
      }
      use(`read${signed}Number`);
      use('writeNumber64');
      return { ts: 'number', kind: 'scalar', wire: VARINT, def: '0', read: `read${signed}Number(r)`, write: (v) => `writeNumber64(w, ${v})`, size: (v) => `number64Size(${v})`, put: (v) => `pos = putNumber64(b, pos, ${v})`, sized: ['number64Size', 'putNumber64'], nonZero: (v) => `${v} !== 0` };
    }
    default:
      throw new Error(`${fqn(type)}.${field.name}: unsupported type ${field.type}`);
  }
}

/** The bytes of varint `v` (a tag), as statements writing them at `pos`. */
function putTag(tag) {
  const out = [];
  let v = tag;
  while (v > 127) {
    out.push(`b[pos++] = ${(v & 127) | 128};`);
    v >>>= 7;
  }
  out.push(`b[pos++] = ${v};`);
  return out.join(' ');
}

function tagSize(tag) {
  let n = 1;
  for (let v = tag; v > 127; v >>>= 7) n++;
  return n;
}

/**
 * Emits size<Name> (the encoded length of a message) and put<Name> (writes it into a buffer at
 * `pos`, returns the end): one exactly sized allocation per encode instead of a Writer's list of
 * operations, one object per field. Same bytes as write<Name> (a test checks it).
 */
function emitSized(body, name, fields, use) {
  const sorted = [...fields].sort((a, b) => a.f.id - b.f.id);
  const size = [`/** Encoded length of \`m\` in bytes (no length prefix). */`, `export function size${name}(m: ${name}): number {`, '  let n = 0;'];
  const put = [`/** Writes \`m\` into \`b\` at \`pos\` (room for size${name}(m) bytes); returns the offset after it. */`, `export function put${name}(m: ${name}, b: Buffer, pos: number): number {`];
  for (const x of sorted) {
    const v = `m.${x.ts}`;
    const { info } = x;
    if (info.kind === 'message') {
      use('varint32Size');
      use('putVarint32');
      const tag = tagOf(x.f.id, LEN);
      const t = tagSize(tag);
      if (x.f.repeated) {
        size.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) { const s = ${info.msg.size}(${v}[i]); n += ${t} + varint32Size(s) + s; }`);
        put.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) { ${putTag(tag)} pos = putVarint32(b, pos, ${info.msg.size}(${v}[i])); pos = ${info.msg.put}(${v}[i], b, pos); }`);
      } else {
        size.push(`  if (${v} !== undefined) { const s = ${info.msg.size}(${v}); n += ${t} + varint32Size(s) + s; }`);
        put.push(`  if (${v} !== undefined) { ${putTag(tag)} pos = putVarint32(b, pos, ${info.msg.size}(${v})); pos = ${info.msg.put}(${v}, b, pos); }`);
      }
      continue;
    }
    for (const h of info.sized) use(h);
    if (x.f.repeated && x.f.packed && info.wire === VARINT) {
      use('varint32Size');
      use('putVarint32');
      const tag = tagOf(x.f.id, LEN);
      size.push(`  if (${v} !== undefined && ${v}.length !== 0) { let s = 0; for (let i = 0; i < ${v}.length; i++) s += ${info.size(`${v}[i]`)}; n += ${tagSize(tag)} + varint32Size(s) + s; }`);
      put.push(`  if (${v} !== undefined && ${v}.length !== 0) { let s = 0; for (let i = 0; i < ${v}.length; i++) s += ${info.size(`${v}[i]`)}; ${putTag(tag)} pos = putVarint32(b, pos, s); for (let i = 0; i < ${v}.length; i++) ${info.put(`${v}[i]`)}; }`);
    } else if (x.f.repeated) {
      const tag = tagOf(x.f.id, info.wire);
      size.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) n += ${tagSize(tag)} + ${info.size(`${v}[i]`)};`);
      put.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) { ${putTag(tag)} ${info.put(`${v}[i]`)}; }`);
    } else {
      const tag = tagOf(x.f.id, info.wire);
      const cond = x.optional ? `${v} !== undefined` : `${v} !== undefined && ${info.nonZero(v)}`;
      size.push(`  if (${cond}) n += ${tagSize(tag)} + ${info.size(v)};`);
      put.push(`  if (${cond}) { ${putTag(tag)} ${info.put(v)}; }`);
    }
  }
  size.push('  return n;', '}', '');
  put.push('  return pos;', '}', '');
  body.push(...size, ...put);
}

// ---- per-package file

function genPackage(pkg) {
  const ns = pbRoot.lookup(pkg);
  const types = [];
  const enums = [];
  collect(ns, types, enums, []);
  const runtime = new Set();
  const use = (n) => runtime.add(n);
  const imports = new Set();
  const ref = (t) => {
    const p = pkgOf(t);
    const name = tsTypeName(t);
    if (p === pkg) return { type: name, read: `read${name}`, write: `write${name}`, size: `size${name}`, put: `put${name}` };
    imports.add(p);
    return { type: `${p}.${name}`, read: `${p}.read${name}`, write: `${p}.write${name}`, size: `${p}.size${name}`, put: `${p}.put${name}` };
  };
  const body = [];

  for (const e of enums) {
    body.push(docComment(e.comment, `${fqn(e)}.`));
    body.push(`export enum ${tsTypeName(e)} {`);
    for (const [k, v] of Object.entries(e.values)) {
      if (e.comments[k]) body.push(`  /** ${oneLine(e.comments[k])} */`);
      body.push(`  ${k} = ${v},`);
    }
    body.push('}', '');
  }

  for (const type of types) {
    const name = tsTypeName(type);
    const fields = type.fieldsArray.map((f) => {
      const info = fieldInfo(type, f, ref, use);
      const oneof = f.partOf ? f.partOf.name : null;
      // Explicit presence (messages, oneof members, proto2 scalars): undefined when absent.
      const optional = !f.repeated && (info.kind === 'message' || oneof !== null || f.hasPresence);
      return { f, info, ts: tsFieldName(f.name), oneof, optional };
    });

    // interface
    body.push(docComment(type.comment, `${fqn(type)}.`));
    body.push(`export interface ${name} {`);
    for (const x of fields) {
      const tsType = x.f.repeated ? `${x.info.ts}[]` : x.info.ts;
      const notes = [`${x.f.name} = ${x.f.id}`];
      if (x.oneof) notes.push(`oneof ${x.oneof}`);
      const c = x.f.comment ? `${oneLine(x.f.comment)} ` : '';
      body.push(`  /** ${c}(${notes.join(', ')}) */`);
      body.push(`  ${x.ts}${x.optional && !x.f.repeated ? '?' : ''}: ${tsType};`);
    }
    body.push('}', '');

    // default constructor
    const init = fields.map((x) => `${x.ts}: ${x.f.repeated ? `init?.${x.ts} ?? []` : x.optional ? `init?.${x.ts}` : `init?.${x.ts} ?? ${x.info.def}`}`);
    body.push(`/** ${article(name)} ${name} with every field at its default, overridden by \`init\`. */`);
    body.push(`export function create${name}(init?: Partial<${name}>): ${name} {`);
    body.push(`  return { ${init.join(', ')} };`);
    body.push('}', '');

    // writer
    body.push(`/** Appends the fields of \`m\` to \`w\` (no length prefix). */`);
    body.push(`export function write${name}(m: ${name}, w: Writer): void {`);
    for (const x of [...fields].sort((a, b) => a.f.id - b.f.id)) {
      const v = `m.${x.ts}`;
      const { info } = x;
      if (info.kind === 'message') {
        const tag = tagOf(x.f.id, LEN);
        if (x.f.repeated) {
          body.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) { ${info.msg.write}(${v}[i], w.uint32(${tag}).fork()); w.ldelim(); }`);
        } else {
          body.push(`  if (${v} !== undefined) { ${info.msg.write}(${v}, w.uint32(${tag}).fork()); w.ldelim(); }`);
        }
      } else if (x.f.repeated && x.f.packed && info.wire === VARINT) {
        const tag = tagOf(x.f.id, LEN);
        body.push(`  if (${v} !== undefined && ${v}.length !== 0) { w.uint32(${tag}).fork(); for (let i = 0; i < ${v}.length; i++) ${info.write(`${v}[i]`)}; w.ldelim(); }`);
      } else if (x.f.repeated) {
        const tag = tagOf(x.f.id, info.wire);
        body.push(`  if (${v} !== undefined) for (let i = 0; i < ${v}.length; i++) { w.uint32(${tag}); ${info.write(`${v}[i]`)}; }`);
      } else {
        const tag = tagOf(x.f.id, info.wire);
        // proto3 leaves zero values off the wire; oneof members and proto2 fields go whenever set.
        const cond = x.optional ? `${v} !== undefined` : `${v} !== undefined && ${info.nonZero(v)}`;
        body.push(`  if (${cond}) { w.uint32(${tag}); ${info.write(v)}; }`);
      }
    }
    body.push('}', '');

    // sized encoding: size first, then written straight into one buffer of that size
    emitSized(body, name, fields, use);

    // reader
    const decl = fields.map((x) => `${x.ts}: ${x.f.repeated ? '[]' : x.optional ? 'undefined' : x.info.def}`);
    body.push(`/** Reads ${article(name).toLowerCase()} ${name} from \`r\` up to offset \`end\`. */`);
    body.push(`export function read${name}(r: Reader, end: number): ${name} {`);
    body.push(`  const m: ${name} = { ${decl.join(', ')} };`);
    body.push('  while (r.pos < end) {');
    body.push('    const tag = r.uint32();');
    body.push('    switch (tag) {');
    for (const x of fields) {
      const { info } = x;
      const v = `m.${x.ts}`;
      const others = x.oneof ? fields.filter((o) => o.oneof === x.oneof && o !== x).map((o) => ` m.${o.ts} = undefined;`).join('') : '';
      if (x.f.repeated) {
        body.push(`      case ${tagOf(x.f.id, info.wire)}: ${v}.push(${info.read}); break;`);
        if (info.wire === VARINT) {
          body.push(`      case ${tagOf(x.f.id, LEN)}: { const e = r.uint32() + r.pos; while (r.pos < e) ${v}.push(${info.read}); break; }`);
        }
      } else {
        body.push(`      case ${tagOf(x.f.id, info.wire)}: ${v} = ${info.read};${others} break;`);
      }
    }
    body.push('      default: skipField(r, tag);');
    use('skipField');
    body.push('    }');
    body.push('  }');
    body.push('  return m;');
    body.push('}', '');

    use('MessageCodec');
    body.push(`/** Codec of ${fqn(type)}. */`);
    body.push(`export const ${name}: MessageCodec<${name}> = {`);
    body.push(`  typeName: '${fqn(type)}',`);
    body.push(`  create: create${name},`);
    // Own encode/decode per type (no shared wrapper taking the write/read function), so each call
    // site stays monomorphic and V8 can inline the generated code.
    body.push(`  encode(m: ${name}): Buffer {`);
    body.push(`    const b = Buffer.allocUnsafe(size${name}(m));`);
    body.push(`    put${name}(m, b, 0);`);
    body.push('    return b;');
    body.push('  },');
    body.push(`  encodeAfter(m: ${name}, prefix: number): Buffer {`);
    body.push(`    const b = Buffer.allocUnsafe(prefix + size${name}(m));`);
    body.push(`    put${name}(m, b, prefix);`);
    body.push('    return b;');
    body.push('  },');
    body.push(`  decode(bytes: Uint8Array): ${name} {`);
    body.push('    const r = protobuf.Reader.create(bytes);');
    body.push(`    return read${name}(r, r.len);`);
    body.push('  },');
    body.push(`  write: write${name},`);
    body.push(`  read: read${name},`);
    body.push('};', '');
  }

  const head = [header(`package ${pkg}`)];
  head.push("import protobuf from 'protobufjs/minimal.js';");
  head.push("import type { Reader, Writer } from 'protobufjs/minimal.js';");
  const rt = [...runtime].sort();
  const typeOnly = new Set(['MessageCodec']);
  head.push(`import { ${rt.map((n) => (typeOnly.has(n) ? `type ${n}` : n)).join(', ')} } from './runtime.js';`);
  for (const p of [...imports].sort()) head.push(`import * as ${p} from './${p}.js';`);
  head.push('');
  return head.join('\n') + '\n' + body.join('\n');
}

// ---- services

function genServices() {
  const out = [header('the gRPC services of every generated package')];
  out.push("import type { MethodDescriptor, ServiceDescriptor } from './runtime.js';");
  const services = [];
  for (const pkg of GENERATED_PACKAGES) {
    const list = [];
    collect(pbRoot.lookup(pkg), [], [], list);
    services.push(...list);
  }
  const pkgs = new Set();
  for (const s of services) for (const m of s.methodsArray) {
    pkgs.add(pkgOf(m.resolvedRequestType));
    pkgs.add(pkgOf(m.resolvedResponseType));
  }
  for (const p of [...pkgs].sort()) out.push(`import * as ${p} from './${p}.js';`);
  out.push('');
  const names = [];
  for (const s of services) {
    const svc = `${s.name}Service`;
    names.push(svc);
    const full = fqn(s);
    out.push(`/** The methods of ${full}. */`);
    out.push(`export interface ${s.name}Methods {`);
    for (const m of s.methodsArray) {
      const req = `${pkgOf(m.resolvedRequestType)}.${tsTypeName(m.resolvedRequestType)}`;
      const res = `${pkgOf(m.resolvedResponseType)}.${tsTypeName(m.resolvedResponseType)}`;
      out.push(`  ${m.name}: MethodDescriptor<${req}, ${res}>;`);
    }
    out.push('}', '');
    out.push(docComment(s.comment, `gRPC service ${full}.`));
    out.push(`export const ${svc}: ServiceDescriptor<${s.name}Methods> = {`);
    out.push(`  name: '${full}',`);
    out.push('  methods: {');
    for (const m of s.methodsArray) {
      const req = `${pkgOf(m.resolvedRequestType)}.${tsTypeName(m.resolvedRequestType)}`;
      const res = `${pkgOf(m.resolvedResponseType)}.${tsTypeName(m.resolvedResponseType)}`;
      const routes = gatewayRoutes(m);
      if (routes.length === 0) throw new Error(`${full}.${m.name}: no "gateway:" line in its comment`);
      out.push(`    ${m.name}: {`);
      out.push(`      name: '${m.name}',`);
      out.push(`      originalName: '${lowerFirst(m.name)}',`);
      out.push(`      path: '/${full}/${m.name}',`);
      out.push(`      requestStream: ${Boolean(m.requestStream)},`);
      out.push(`      responseStream: ${Boolean(m.responseStream)},`);
      out.push(`      requestType: ${req},`);
      out.push(`      responseType: ${res},`);
      out.push(`      gateway: [${routes.map((r) => `'${r}'`).join(', ')}],`);
      out.push('    },');
    }
    out.push('  },');
    out.push('};', '');
  }
  out.push('/** Every service, in proto order. */');
  out.push(`export const allServices = [${names.join(', ')}] as const;`);
  return out.join('\n') + '\n';
}

function gatewayRoutes(method) {
  const routes = [];
  for (const line of (method.comment ?? '').split('\n')) {
    const m = /^gateway:\s*(POST|GET|PUT|DELETE)\s+(\S+)\s*$/.exec(line.trim());
    if (m) routes.push(`${m[1]} ${m[2]}`);
  }
  return routes;
}

// ---- JSON field table (for the grpc-gateway JSON mapping)

/**
 * Emits json-names.ts: per message, per field, the proto name (what etcd's gateway writes, its
 * OrigName), the TS property (also protoc's json_name, which the gateway accepts on input), the
 * scalar kind or the message/enum type, and repeated/oneof/presence; plus every enum's values.
 * The codecs carry none of this, and the names cannot be recovered from the TS properties alone.
 */
function genJsonNames() {
  const out = [header('JSON field names and kinds of every generated message')];
  out.push('/** How a field is written in JSON: a scalar kind, an enum, or a nested message. */');
  out.push("export type JsonFieldKind = 'bool' | 'string' | 'bytes' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'enum' | 'message';");
  out.push('');
  out.push('/** One field of a message as the JSON mapping sees it. */');
  out.push('export interface JsonField {');
  out.push('  /** The proto field name, e.g. `raft_term` (grpc-gateway\'s OrigName output). */');
  out.push('  readonly name: string;');
  out.push('  /** The TS property, which is also protoc\'s json_name, e.g. `raftTerm`. */');
  out.push('  readonly prop: string;');
  out.push('  readonly kind: JsonFieldKind;');
  out.push('  /** Fully qualified message or enum type, for kind `message` and `enum`. */');
  out.push('  readonly type?: string;');
  out.push('  readonly repeated?: true;');
  out.push('  /** The oneof this field belongs to. */');
  out.push('  readonly oneof?: string;');
  out.push('  /** Explicit presence: undefined in the TS object when absent (messages, oneof members, proto2). */');
  out.push('  readonly optional?: true;');
  out.push('  /** A 64-bit field held as `bigint` (IDs); other 64-bit fields are `number`. */');
  out.push('  readonly bigint?: true;');
  out.push('}');
  out.push('');
  const types = [];
  const enums = [];
  for (const pkg of GENERATED_PACKAGES) collect(pbRoot.lookup(pkg), types, enums, []);
  out.push('/** The fields of every generated message, by fully qualified name, in declaration order. */');
  out.push('export const JSON_MESSAGES: Readonly<Record<string, readonly JsonField[]>> = {');
  for (const type of types) {
    out.push(`  '${fqn(type)}': [`);
    for (const f of type.fieldsArray) {
      const t = f.resolvedType;
      const parts = [`name: '${f.name}'`, `prop: '${tsFieldName(f.name)}'`];
      let isMessage = false;
      if (t instanceof protobuf.Type) {
        parts.push("kind: 'message'", `type: '${fqn(t)}'`);
        isMessage = true;
      } else if (t instanceof protobuf.Enum) {
        parts.push("kind: 'enum'", `type: '${fqn(t)}'`);
      } else {
        parts.push(`kind: '${f.type}'`);
      }
      if (f.repeated) parts.push('repeated: true');
      if (f.partOf) parts.push(`oneof: '${f.partOf.name}'`);
      if (!f.repeated && (isMessage || f.partOf || f.hasPresence)) parts.push('optional: true');
      if ((f.type === 'int64' || f.type === 'uint64') && BIGINT_FIELDS.has(`${fqn(type)}.${f.name}`)) parts.push('bigint: true');
      out.push(`    { ${parts.join(', ')} },`);
    }
    out.push('  ],');
  }
  out.push('};');
  out.push('');
  out.push('/** The values of every generated enum, by fully qualified name: value name to number. */');
  out.push('export const JSON_ENUMS: Readonly<Record<string, Readonly<Record<string, number>>>> = {');
  for (const e of enums) {
    out.push(`  '${fqn(e)}': { ${Object.entries(e.values).map(([k, v]) => `${k}: ${v}`).join(', ')} },`);
  }
  out.push('};');
  return out.join('\n') + '\n';
}

// ---- runtime (emitted verbatim)

const RUNTIME = `${header('shared codec runtime')}import type { Reader, Writer } from 'protobufjs/minimal.js';

/** Encoder and decoder of one message type. Methods (not function properties) so codecs of different types share one supertype. */
export interface MessageCodec<T> {
  /** Fully qualified proto name, e.g. 'etcdserverpb.PutRequest'. */
  readonly typeName: string;
  /** A message with every field at its default, overridden by \`init\`. */
  create(init?: Partial<T>): T;
  /** Encodes to protobuf bytes. */
  encode(message: T): Buffer;
  /** Encodes after \`prefix\` bytes left for the caller (a gRPC message prefix, say): one buffer, no copy. */
  encodeAfter(message: T, prefix: number): Buffer;
  /** Decodes protobuf bytes. Bytes fields of the result are views into \`bytes\` (no copy). */
  decode(bytes: Uint8Array): T;
  /** Appends the fields of \`message\` to \`w\`, without a length prefix. */
  write(message: T, w: Writer): void;
  /** Reads a message from \`r\` up to offset \`end\`. */
  read(r: Reader, end: number): T;
}

/** One gRPC method: its wire path, streaming shape, codecs and JSON gateway routes. */
export interface MethodDescriptor<Req, Res> {
  /** Method name as in the proto, e.g. 'Range'. */
  readonly name: string;
  /** lowerCamel alias grpc-js clients also expose, e.g. 'range'. */
  readonly originalName: string;
  /** Full gRPC path, e.g. '/etcdserverpb.KV/Range'. */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestType: MessageCodec<Req>;
  readonly responseType: MessageCodec<Res>;
  /** etcd's grpc-gateway routes, e.g. ['POST /v3/kv/range']. */
  readonly gateway: readonly string[];
}

/** One gRPC service: full name (e.g. 'etcdserverpb.KV') and its methods by proto name. */
export interface ServiceDescriptor<M> {
  readonly name: string;
  readonly methods: M;
}

/** Shared zero-length value for unset bytes fields; never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Skips an unknown field (proto3 keeps going past fields it does not know). */
export function skipField(r: Reader, tag: number): void {
  if (tag >>> 3 === 0) throw new Error(\`invalid field number 0 at offset \${r.pos}\`);
  r.skipType(tag & 7);
}

// 64-bit varints are decoded into these two halves (unsigned 32-bit each) without allocating.
let lo = 0;
let hi = 0;

function truncated(r: Reader): Error {
  return new RangeError(\`varint runs past the end of the buffer at offset \${r.pos}\`);
}

/** Reads a varint of up to 10 bytes into lo/hi. */
function readVarint64(r: Reader): void {
  const buf = r.buf;
  const len = r.len;
  let pos = r.pos;
  let b = 0;
  lo = 0;
  hi = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw truncated(r);
    b = buf[pos++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo >>>= 0;
      r.pos = pos;
      return;
    }
  }
  if (pos >= len) throw truncated(r);
  b = buf[pos++];
  lo = (lo | ((b & 0x0f) << 28)) >>> 0;
  hi = (b & 0x7f) >> 4;
  if (b < 0x80) {
    r.pos = pos;
    return;
  }
  for (let shift = 3; shift < 32; shift += 7) {
    if (pos >= len) throw truncated(r);
    b = buf[pos++];
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      hi >>>= 0;
      r.pos = pos;
      return;
    }
  }
  throw new RangeError(\`varint longer than 10 bytes at offset \${r.pos}\`);
}

/** Reads an int64 as a number: exact within ±2^53, the nearest double beyond (so order still holds). */
export function readInt64Number(r: Reader): number {
  const pos = r.pos;
  if (pos < r.len && r.buf[pos] < 0x80) {
    r.pos = pos + 1;
    return r.buf[pos];
  }
  readVarint64(r);
  return (hi | 0) * 4294967296 + lo;
}

/** Reads a uint64 as a number: exact below 2^53, the nearest double beyond. */
export function readUint64Number(r: Reader): number {
  const pos = r.pos;
  if (pos < r.len && r.buf[pos] < 0x80) {
    r.pos = pos + 1;
    return r.buf[pos];
  }
  readVarint64(r);
  return hi * 4294967296 + lo;
}

// IDs repeat (every response header carries the same cluster and member ID; a lease ID comes back
// in every keep-alive), and building a 64-bit bigint from two halves costs several allocations.
// A small direct-mapped cache keyed by the halves returns the bigint already built.
const ID_CACHE_SIZE = 64;
const cacheLo = new Uint32Array(ID_CACHE_SIZE);
const cacheHi = new Uint32Array(ID_CACHE_SIZE);
const cacheU: bigint[] = new Array<bigint>(ID_CACHE_SIZE).fill(0n);

/** The bigint hi * 2^32 + lo (both unsigned 32-bit), from the cache when possible. */
function bigUint64(): bigint {
  if (hi === 0) return BigInt(lo);
  const slot = (lo ^ hi ^ (hi >>> 6)) & (ID_CACHE_SIZE - 1);
  if (cacheLo[slot] === lo && cacheHi[slot] === hi) return cacheU[slot];
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  cacheLo[slot] = lo;
  cacheHi[slot] = hi;
  cacheU[slot] = u;
  return u;
}

/** Reads a uint64 exactly, as a bigint in [0, 2^64). */
export function readUint64BigInt(r: Reader): bigint {
  readVarint64(r);
  return bigUint64();
}

/** Reads an int64 exactly, as a bigint in [-2^63, 2^63). */
export function readInt64BigInt(r: Reader): bigint {
  readVarint64(r);
  const u = bigUint64();
  return hi >= 0x80000000 ? u - 18446744073709551616n : u;
}

/** Writes a number as an int64/uint64 varint (negative numbers as 10-byte two's complement). */
export function writeNumber64(w: Writer, v: number): void {
  if (v >= 0 && v <= 0xffffffff) w.uint32(v);
  else w.int64(v);
}

// Reused argument for Writer.uint64, which copies low/high into its own LongBits.
const halves = { low: 0, high: 0, unsigned: false };

// The last few bigints written and their halves: splitting a bigint allocates, and the same IDs
// are written over and over (see the read cache above).
const WRITE_CACHE_SIZE = 4;
const lastBig: bigint[] = new Array<bigint>(WRITE_CACHE_SIZE).fill(0n);
const lastLo = new Int32Array(WRITE_CACHE_SIZE);
const lastHi = new Int32Array(WRITE_CACHE_SIZE);
let lastNext = 0;

/** Writes a bigint as an int64/uint64 varint; values outside 64 bits are truncated to their low 64 bits. */
export function writeBigInt64(w: Writer, v: bigint): void {
  if (v >= 0n && v <= 0xffffffffn) {
    w.uint32(Number(v));
    return;
  }
  for (let i = 0; i < WRITE_CACHE_SIZE; i++) {
    if (lastBig[i] === v) {
      halves.low = lastLo[i];
      halves.high = lastHi[i];
      w.uint64(halves as unknown as number);
      return;
    }
  }
  const u = v >= 0n ? v : BigInt.asUintN(64, v);
  const slot = lastNext;
  lastNext = (lastNext + 1) & (WRITE_CACHE_SIZE - 1);
  lastBig[slot] = v;
  halves.low = lastLo[slot] = Number(u & 0xffffffffn) | 0;
  halves.high = lastHi[slot] = Number(u >> 32n) | 0;
  w.uint64(halves as unknown as number);
}

// ---- sized encoding (size<Name> / put<Name>): what each value takes and how it is written

/** Bytes of the varint of an unsigned 32-bit value. */
export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes an unsigned 32-bit value as a varint at \`pos\`; returns the offset after it. */
export function putVarint32(b: Buffer, pos: number, v: number): number {
  while (v > 127) {
    b[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  b[pos++] = v;
  return pos;
}

// The halves of the last 64-bit value split (unsigned 32-bit each); set by split64/splitBig.
let splitLo = 0;
let splitHi = 0;

function split64(v: number): void {
  const neg = v < 0;
  if (neg) v = -v;
  let lo = v >>> 0;
  let h = ((v - lo) / 4294967296) >>> 0;
  if (neg) {
    h = ~h >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++h > 4294967295) h = 0;
    }
  }
  splitLo = lo;
  splitHi = h;
}

// A bigint stored into a BigUint64Array is reduced modulo 2^64 (two's complement for negative
// ones) without allocating; its halves are then read back as 32-bit words.
const bigScratch = new BigUint64Array(1);
const bigHalves = new Uint32Array(bigScratch.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function splitBig(v: bigint): void {
  bigScratch[0] = v;
  splitLo = bigHalves[littleEndian ? 0 : 1]!;
  splitHi = bigHalves[littleEndian ? 1 : 0]!;
}

function split64Size(): number {
  if (splitHi === 0) return varint32Size(splitLo);
  const part1 = ((splitLo >>> 28) | (splitHi << 4)) >>> 0;
  const part2 = splitHi >>> 24;
  if (part2 !== 0) return part2 < 128 ? 9 : 10;
  return part1 < 16384 ? (part1 < 128 ? 5 : 6) : part1 < 2097152 ? 7 : 8;
}

function putSplit64(b: Buffer, pos: number): number {
  let lo = splitLo;
  let h = splitHi;
  while (h !== 0) {
    b[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  return putVarint32(b, pos, lo);
}

/** Bytes of an int32 or enum (a negative one takes ten, sign-extended to 64 bits). */
export function int32Size(v: number): number {
  return v < 0 ? 10 : varint32Size(v);
}

/** Writes an int32 or enum varint; returns the offset after it. */
export function putInt32(b: Buffer, pos: number, v: number): number {
  if (v >= 0) return putVarint32(b, pos, v);
  splitLo = v >>> 0;
  splitHi = 0xffffffff;
  return putSplit64(b, pos);
}

/** Bytes of a number written as an int64/uint64 varint. */
export function number64Size(v: number): number {
  if (v >= 0 && v <= 0xffffffff) return varint32Size(v);
  split64(v);
  return split64Size();
}

/** Writes a number as an int64/uint64 varint (negative ones as 10-byte two's complement). */
export function putNumber64(b: Buffer, pos: number, v: number): number {
  if (v >= 0 && v <= 0xffffffff) return putVarint32(b, pos, v);
  split64(v);
  return putSplit64(b, pos);
}

/** Bytes of a bigint written as an int64/uint64 varint. */
export function bigInt64Size(v: bigint): number {
  if (v >= 0n && v <= 0xffffffffn) return varint32Size(Number(v));
  splitBig(v);
  return split64Size();
}

/** Writes a bigint as an int64/uint64 varint (its low 64 bits). */
export function putBigInt64(b: Buffer, pos: number, v: bigint): number {
  if (v >= 0n && v <= 0xffffffffn) return putVarint32(b, pos, Number(v));
  splitBig(v);
  return putSplit64(b, pos);
}

/** Bytes of a length-prefixed UTF-8 string. */
export function stringSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return varint32Size(n) + n;
}

/** Writes a length-prefixed UTF-8 string; returns the offset after it. */
export function putString(b: Buffer, pos: number, s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  pos = putVarint32(b, pos, n);
  return pos + b.write(s, pos, n, 'utf8');
}

/** Bytes of a length-prefixed bytes field. */
export function bytesSize(v: Uint8Array): number {
  return varint32Size(v.length) + v.length;
}

/** Writes a length-prefixed bytes field; returns the offset after it. */
export function putBytes(b: Buffer, pos: number, v: Uint8Array): number {
  pos = putVarint32(b, pos, v.length);
  b.set(v, pos);
  return pos + v.length;
}
`;

// ---- helpers

function header(what) {
  return `// Code generated by scripts/gen-proto.mjs from proto/ (${what}). DO NOT EDIT.\n`;
}

function article(word) {
  return /^[AEIOU]/.test(word) ? 'An' : 'A';
}

function oneLine(s) {
  return s.replace(/\s*\n\s*/g, ' ').replace(/\*\//g, '* /').trim();
}

function docComment(comment, fallback) {
  const text = comment ? oneLine(comment.split('\n').filter((l) => !/^gateway:/.test(l.trim())).join('\n')) : '';
  return `/** ${text ? `${text} ` : ''}(${fallback.replace(/\.$/, '')}) */`;
}

// ---- main

const files = new Map();
files.set('runtime.ts', RUNTIME);
for (const pkg of GENERATED_PACKAGES) files.set(`${pkg}.ts`, genPackage(pkg));
files.set('services.ts', genServices());
files.set('json-names.ts', genJsonNames());

for (const key of BIGINT_FIELDS) if (!seenBigint.has(key)) throw new Error(`BIGINT_FIELDS lists ${key}, which is not a 64-bit field`);

mkdirSync(outDir, { recursive: true });
for (const [name, text] of files) writeFileSync(join(outDir, name), text);
console.log(`gen-proto: wrote ${files.size} files to ${outDir}`);
