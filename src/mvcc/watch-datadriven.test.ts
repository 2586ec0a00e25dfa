import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Backend } from '../backend/backend.js';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../pkg/datadriven.js';
import type { KeyValue } from './key-value.js';
import { KvStore } from './kv-store.js';
import { WatchableStore } from './watchable-store.js';
import type { WatchFilter, WatchResponse } from './watch-response.js';
import type { WatchStream } from './watch-stream.js';

// Golden tests of watch delivery. Each file starts from an empty store and one stream named `s`
// (capacity 128). Commands:
//   put k=K v=V [lease=N]                     one put in its own transaction
//   del k=K [end=E] [prefix]                  one delete range in its own transaction
//   txn                                        input lines: put K V | del K [E]
//   compact rev=N                              compacts and runs the physical job to its end
//   stream name=S [cap=N]                      opens another stream
//   watch [stream=S] [id=N] k=K [end=E] [prefix] [rev=N] [noput] [nodelete] [prev]
//   cancel [stream=S] id=N
//   progress [stream=S] id=N                   asks for the progress of one watcher
//   progress-all [stream=S]                    asks for a stream-wide progress notification
//   sync [max=N]                               one periodic sync (victims, unsynced batch)
//   take [stream=S] [n=N]                      takes up to N responses (default: all)
//   state                                      where the watchers are
// E may be \0 (every key from K on).

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => (s === '\\0' ? new Uint8Array([0]) : enc.encode(s));

/** etcd's prefix range end: the key with its last byte below 0xff incremented, the rest cut. */
function prefixEnd(key: Uint8Array): Uint8Array {
  const end = key.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

function fmtKv(kv: KeyValue): string {
  const lease = kv.lease === 0n ? '' : ` lease=${kv.lease}`;
  return `${dec.decode(kv.key)}=${dec.decode(kv.value)} c=${kv.createRevision} m=${kv.modRevision} v=${kv.version}${lease}`;
}

function fmtResponse(stream: string, r: WatchResponse): string {
  let head = `${stream}/${r.watchId} rev=${r.revision}`;
  if (r.compactRevision !== 0) head += ` compacted=${r.compactRevision}`;
  else if (r.events.length === 0) head += ' progress';
  const lines = [head];
  for (const ev of r.events) {
    const prev = ev.prevKv === undefined ? '' : ` prev: ${fmtKv(ev.prevKv)}`;
    lines.push(ev.type === 'put' ? `  put ${fmtKv(ev.kv)}${prev}` : `  delete ${dec.decode(ev.kv.key)} m=${ev.kv.modRevision}${prev}`);
  }
  return lines.join('\n');
}

class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'watch-golden-'));
  readonly backend = Backend.open({ path: join(this.dir, 'db') });
  readonly kv = KvStore.open(this.backend);
  readonly ws = new WatchableStore(this.kv);
  readonly streams = new Map<string, WatchStream>([['s', this.ws.newWatchStream()]]);

  private stream(tc: TestCase): [string, WatchStream] {
    const name = tc.args.get('stream') ?? 's';
    const s = this.streams.get(name);
    if (s === undefined) throw new Error(`${tc.pos}: no stream ${name}`);
    return [name, s];
  }

  private num(tc: TestCase, name: string, dflt: number): number {
    const v = tc.args.get(name);
    return v === undefined ? dflt : Number(v);
  }

  private range(tc: TestCase, key: Uint8Array): Uint8Array | undefined {
    if (tc.args.has('prefix')) return prefixEnd(key);
    const end = tc.args.get('end');
    return end === undefined ? undefined : bytes(end);
  }

  run(tc: TestCase): string {
    const a = tc.args;
    switch (tc.cmd) {
      case 'put': {
        const r = this.kv.put(bytes(a.get('k')!), bytes(a.get('v') ?? ''), BigInt(a.get('lease') ?? '0'));
        return r.ok ? `rev=${r.rev}` : `error: ${r.code}`;
      }
      case 'del': {
        const key = bytes(a.get('k')!);
        const r = this.kv.deleteRange(key, this.range(tc, key));
        return `rev=${r.rev} deleted=${r.deleted}`;
      }
      case 'txn': {
        const w = this.kv.write();
        for (const line of tc.input.split('\n')) {
          const [op, k, x] = line.trim().split(/\s+/);
          if (op === 'put') w.put(bytes(k!), bytes(x ?? ''));
          else if (op === 'del') w.deleteRange(bytes(k!), x === undefined ? undefined : bytes(x));
          else throw new Error(`${tc.pos}: unknown txn op ${op}`);
        }
        const r = w.end();
        return `rev=${r.rev} events=${r.events.length}`;
      }
      case 'compact': {
        const r = this.kv.compact(this.num(tc, 'rev', 0));
        if (!r.ok) return `error: ${r.code}`;
        while (r.job.step(1000));
        return 'ok';
      }
      case 'stream': {
        this.streams.set(a.get('name')!, this.ws.newWatchStream(this.num(tc, 'cap', 128)));
        return 'ok';
      }
      case 'watch': {
        const [, s] = this.stream(tc);
        const key = bytes(a.get('k') ?? '');
        const filters: WatchFilter[] = [];
        if (a.has('noput')) filters.push('noPut');
        if (a.has('nodelete')) filters.push('noDelete');
        const r = s.watch(this.num(tc, 'id', 0), key, this.range(tc, key), this.num(tc, 'rev', 0), filters, a.has('prev'));
        return r.ok ? `id=${r.id}` : `error: ${r.code}`;
      }
      case 'cancel': {
        const [, s] = this.stream(tc);
        return s.cancel(this.num(tc, 'id', 0)) ? 'ok' : 'not found';
      }
      case 'progress': {
        const [, s] = this.stream(tc);
        s.requestProgress(this.num(tc, 'id', 0));
        return `queued=${s.length}`;
      }
      case 'progress-all': {
        const [, s] = this.stream(tc);
        return s.requestProgressAll() ? 'sent' : 'deferred';
      }
      case 'sync':
        return `behind=${this.ws.sync(this.num(tc, 'max', 1000))}`;
      case 'take': {
        const [name, s] = this.stream(tc);
        const n = this.num(tc, 'n', Infinity);
        const out: string[] = [];
        for (let i = 0; i < n; i++) {
          const r = s.take();
          if (r === undefined) break;
          out.push(fmtResponse(name, r));
        }
        return out.length === 0 ? '(none)' : out.join('\n');
      }
      case 'state':
        return `synced=${this.ws.syncedCount} unsynced=${this.ws.unsyncedCount} victims=${this.ws.victimCount}`;
      default:
        throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
    }
  }

  async close(): Promise<void> {
    await this.backend.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata', 'watch'))) {
  test(`watch golden: ${basename(file)}`, async () => {
    const h = new Harness();
    try {
      runDataDrivenFile(file, (tc) => h.run(tc), (tc, actual) => {
        assert.equal(actual, tc.expected, `${tc.pos}: ${tc.cmd} ${tc.cmdArgs.join(' ')}`);
      });
    } finally {
      await h.close();
    }
  });
}
