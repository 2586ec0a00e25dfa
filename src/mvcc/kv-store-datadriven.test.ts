import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Backend } from '../backend/backend.js';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../pkg/datadriven.js';
import type { KeyValue } from './key-value.js';
import { decodeKeyValue } from './kv-codec.js';
import { KEY_BUCKET, KvStore } from './kv-store.js';
import { rangeRequest, SortOrder, SortTarget, type RangeRequest } from './range-options.js';
import { isTombstoneKey, mainOfRevBytes, subOfRevBytes } from './revision.js';
import type { TxnWrite } from './txn-write.js';

// Golden tests of the kv store. Each file starts from an empty store. Commands:
//   put k=K v=V [lease=N] [prev] [ignore-value] [ignore-lease]
//   del k=K [end=E] [prev]                    E may be \0 (every key from K on)
//   range k=K [end=E] [rev=N] [limit=N] [count-only] [keys-only] [sort=ascend|descend]
//         [target=key|version|create|mod|value] [min-mod=N] [max-mod=N] [min-create=N] [max-create=N]
//   txn                                        input lines: put K V | del K [E] | range K [E]
//   compact rev=N                              compacts and runs the physical job to its end
//   dump                                       the key bucket, revision by revision
//   hash [rev=N]                               HashKV

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => (s === '\\0' ? new Uint8Array([0]) : enc.encode(s));

function fmtKv(kv: KeyValue): string {
  const lease = kv.lease === 0n ? '' : ` lease=${kv.lease}`;
  return `${dec.decode(kv.key)}=${dec.decode(kv.value)} c=${kv.createRevision} m=${kv.modRevision} v=${kv.version}${lease}`;
}

const targets: Record<string, SortTarget> = { key: SortTarget.KEY, version: SortTarget.VERSION, create: SortTarget.CREATE, mod: SortTarget.MOD, value: SortTarget.VALUE };
const orders: Record<string, SortOrder> = { none: SortOrder.NONE, ascend: SortOrder.ASCEND, descend: SortOrder.DESCEND };

class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'kv-golden-'));
  readonly backend = Backend.open({ path: join(this.dir, 'db') });
  readonly kv = KvStore.open(this.backend);

  private num(args: ReadonlyMap<string, string>, name: string): number | undefined {
    const v = args.get(name);
    return v === undefined ? undefined : Number(v);
  }

  private put(w: TxnWrite, args: ReadonlyMap<string, string>): string {
    const r = w.put(bytes(args.get('k')!), bytes(args.get('v') ?? ''), BigInt(args.get('lease') ?? '0'), {
      prevKv: args.has('prev'),
      ignoreValue: args.has('ignore-value'),
      ignoreLease: args.has('ignore-lease'),
    });
    if (!r.ok) return `error: ${r.code}`;
    return `rev=${r.rev}${r.prevKv === undefined ? '' : `\nprev: ${fmtKv(r.prevKv)}`}`;
  }

  private del(w: TxnWrite, args: ReadonlyMap<string, string>): string {
    const end = args.get('end');
    const r = w.deleteRange(bytes(args.get('k')!), end === undefined ? undefined : bytes(end), { prevKv: args.has('prev') });
    return [`deleted=${r.deleted} rev=${r.rev}`, ...(r.prevKvs ?? []).map((kv) => `prev: ${fmtKv(kv)}`)].join('\n');
  }

  private range(args: ReadonlyMap<string, string>, reader = this.kv as KvStore | TxnWrite): string {
    const end = args.get('end');
    const req: RangeRequest = {
      key: bytes(args.get('k')!),
      rangeEnd: end === undefined ? undefined : bytes(end),
      revision: this.num(args, 'rev'),
      limit: this.num(args, 'limit'),
      countOnly: args.has('count-only'),
      keysOnly: args.has('keys-only'),
      sortOrder: orders[args.get('sort') ?? 'none'],
      sortTarget: targets[args.get('target') ?? 'key'],
      minModRevision: this.num(args, 'min-mod'),
      maxModRevision: this.num(args, 'max-mod'),
      minCreateRevision: this.num(args, 'min-create'),
      maxCreateRevision: this.num(args, 'max-create'),
    };
    const r = rangeRequest(reader, req);
    if (!r.ok) return `error: ${r.code} (current ${r.currentRev}, compacted ${r.compactRev})`;
    return [...r.kvs.map(fmtKv), `count=${r.count} more=${r.more} rev=${r.rev}`].join('\n');
  }

  run(tc: TestCase): string {
    switch (tc.cmd) {
      case 'put':
      case 'del': {
        const w = this.kv.write();
        const out = tc.cmd === 'put' ? this.put(w, tc.args) : this.del(w, tc.args);
        w.end();
        return out;
      }
      case 'range':
        return this.range(tc.args);
      case 'txn': {
        const w = this.kv.write();
        const out: string[] = [];
        for (const line of tc.input.split('\n')) {
          const [op, k, x] = line.trim().split(/\s+/);
          const args = new Map<string, string>([['k', k!]]);
          if (op === 'put') {
            args.set('v', x ?? '');
            out.push(`${line.trim()}: ${this.put(w, args)}`);
          } else if (op === 'del') {
            if (x !== undefined) args.set('end', x);
            out.push(`${line.trim()}: ${this.del(w, args)}`);
          } else if (op === 'range') {
            if (x !== undefined) args.set('end', x);
            out.push(`${line.trim()}:`, this.range(args, w));
          } else out.push(`unknown op ${op}`);
        }
        const end = w.end();
        out.push(`end rev=${end.rev} events: ${end.events.map((e) => `${e.type} ${dec.decode(e.kv.key)}@${e.kv.modRevision}`).join(', ') || '-'}`);
        return out.join('\n');
      }
      case 'compact': {
        const r = this.kv.compact(Number(tc.args.get('rev')));
        if (!r.ok) return `error: ${r.code} (current ${r.currentRev}, compacted ${r.compactRev})`;
        while (this.kv.compactionStep(2));
        return `ok: compactRev=${this.kv.compactRev} finished=${r.job.isFinished}`;
      }
      case 'dump': {
        const out: string[] = [];
        this.backend.forEach(this.backend.bucket(KEY_BUCKET), new Uint8Array(0), undefined, (k, v) => {
          const kv = decodeKeyValue(v);
          out.push(`${mainOfRevBytes(k)}.${subOfRevBytes(k)}${isTombstoneKey(k) ? ' tombstone' : ''} ${dec.decode(kv.key)}`);
        });
        return out.join('\n') || '-';
      }
      case 'hash': {
        const r = this.kv.hashByRev(Number(tc.args.get('rev') ?? '0'));
        if (!r.ok) return `error: ${r.code}`;
        return `hash=${r.hash.toString(16)} current=${r.currentRev} compacted=${r.compactRev}`;
      }
      default:
        return `unknown command ${tc.cmd}`;
    }
  }

  async close(): Promise<void> {
    await this.backend.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata', 'kv-store'))) {
  test(`kv store golden ${basename(file)}`, async () => {
    const h = new Harness();
    try {
      runDataDrivenFile(file, (tc) => h.run(tc), (tc, actual) => assert.equal(actual, tc.expected, tc.pos));
    } finally {
      await h.close();
    }
  });
}
