import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { sourceDirOf } from '../pkg/datadriven.js';
import { seededRand, type Rand } from '../pkg/rand.js';
import * as authpb from './gen/authpb.js';
import * as etcdserverpb from './gen/etcdserverpb.js';
import * as mvccpb from './gen/mvccpb.js';
import type { MessageCodec } from './gen/runtime.js';
import * as v3electionpb from './gen/v3electionpb.js';
import * as v3lockpb from './gen/v3lockpb.js';

const PACKAGES: Record<string, Record<string, unknown>> = { authpb, etcdserverpb, mvccpb, v3electionpb, v3lockpb };

function loadRoot(): protobuf.Root {
  const protoDir = join(sourceDirOf(import.meta.url), '..', '..', 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  const files = ['mvccpb/kv.proto', 'authpb/auth.proto', 'etcdserverpb/rpc.proto', 'etcdserverpb/etcdserver.proto', 'etcdserverpb/raft_internal.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'];
  root.loadSync(files, { keepCase: true });
  return root;
}

const INT64_EDGES = ['0', '1', '-1', '127', '128', '4294967295', '4294967296', '9007199254740991', '-9007199254740991', '9223372036854775807', '-9223372036854775808'];
const UINT64_EDGES = ['0', '1', '127', '16384', '4294967295', '4294967296', '72057594037927936', '18446744073709551615'];
const INT32_EDGES = [0, 1, -1, 127, 128, 2147483647, -2147483648];
const STRINGS = ['', 'a', 'root', 'ünïcödé', '日本語', 'x'.repeat(200)];

/** A random plain object of `type` in protobufjs's reflection shape (64-bit values as decimal strings). */
function randomObject(type: protobuf.Type, rnd: Rand, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const oneofTaken = new Set<string>();
  for (const f of type.fieldsArray) {
    if (rnd.intn(3) === 0) continue;
    if (f.partOf !== null && f.partOf !== undefined) {
      if (oneofTaken.has(f.partOf.name)) continue;
      oneofTaken.add(f.partOf.name);
    }
    const one = (): unknown => randomValue(f, rnd, depth);
    if (f.repeated) {
      const n = rnd.intn(4);
      const arr: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = one();
        if (v !== undefined) arr.push(v);
      }
      out[f.name] = arr;
    } else {
      const v = one();
      if (v !== undefined) out[f.name] = v;
    }
  }
  return out;
}

function randomValue(f: protobuf.Field, rnd: Rand, depth: number): unknown {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return depth > 3 ? undefined : randomObject(rt, rnd, depth + 1);
  if (rt instanceof protobuf.Enum) {
    const values = Object.values(rt.values);
    return rnd.intn(5) === 0 ? -1 : values[rnd.intn(values.length)];
  }
  switch (f.type) {
    case 'bool':
      return rnd.intn(2) === 0;
    case 'string':
      return STRINGS[rnd.intn(STRINGS.length)];
    case 'bytes':
      return Buffer.from(Array.from({ length: [0, 1, 5, 130, 300][rnd.intn(5)]! }, () => rnd.intn(256)));
    case 'int32':
      return INT32_EDGES[rnd.intn(INT32_EDGES.length)];
    case 'uint32':
      return [0, 1, 300, 4294967295][rnd.intn(4)];
    case 'int64':
      return rnd.intn(2) === 0 ? INT64_EDGES[rnd.intn(INT64_EDGES.length)] : String(rnd.intn(1e9) * (rnd.intn(2) ? 1 : -1));
    case 'uint64':
      return rnd.intn(2) === 0 ? UINT64_EDGES[rnd.intn(UINT64_EDGES.length)] : String(rnd.intn(1e9));
    default:
      throw new Error(`no generator for ${f.type}`);
  }
}

test('every message type encodes to the same bytes sized as through a protobufjs Writer, for random messages', () => {
  const root = loadRoot();
  const rnd = seededRand(7);
  let checked = 0;
  for (const mod of Object.values(PACKAGES)) {
    for (const value of Object.values(mod)) {
      const codec = value as Partial<MessageCodec<unknown>>;
      if (typeof codec !== 'object' || codec === null || typeof codec.encode !== 'function' || typeof codec.write !== 'function') continue;
      const type = root.lookupType(codec.typeName!);
      for (let i = 0; i < 40; i++) {
        // Reflection encodes the random object; the generated codec decodes it into its own shape.
        const wire = type.encode(type.fromObject(randomObject(type, rnd, 0))).finish();
        const m = codec.decode!(wire);
        const w = protobuf.Writer.create();
        codec.write(m, w);
        const viaWriter = Buffer.from(w.finish());
        const sized: Buffer = codec.encode!(m);
        assert.equal(sized.toString('hex'), viaWriter.toString('hex'), `${codec.typeName} #${i}`);
        const after: Buffer = codec.encodeAfter!(m, 5);
        assert.equal(after.length, 5 + sized.length);
        assert.equal(after.subarray(5).toString('hex'), sized.toString('hex'));
        checked++;
      }
    }
  }
  assert.ok(checked > 40 * 100, `only ${checked} messages checked`);
});

test('64-bit numbers and bigints outside 32 bits size and write like protobufjs', () => {
  for (const revision of [-1, -(2 ** 40), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 4294967295, 4294967296]) {
    for (const clusterId of [0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x8e9e05c52164694dn, -1n]) {
      const h = etcdserverpb.createResponseHeader({ clusterId, memberId: clusterId, revision, raftTerm: revision < 0 ? 0 : revision });
      const w = protobuf.Writer.create();
      etcdserverpb.writeResponseHeader(h, w);
      assert.equal(etcdserverpb.ResponseHeader.encode(h).toString('hex'), Buffer.from(w.finish()).toString('hex'), `${revision} ${clusterId}`);
    }
  }
});
