import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../backend/backend.js';
import { keyString } from '../backend/key-string.js';
import { seededRand, type Rand } from '../pkg/rand.js';
import type { KeyValue } from './key-value.js';
import { KvStore } from './kv-store.js';
import { WatchableStore } from './watchable-store.js';
import type { WatchFilter, WatchResponse } from './watch-response.js';
import type { WatchStream } from './watch-stream.js';

// Property: random write transactions interleaved with watcher creation at random start
// revisions, random sync batch sizes, small stream queues drained at random (so watchers become
// victims and recover), random cancels and backend commits. In the end every live watcher has
// received exactly the events of the store's history in its range from its start revision, in
// order, no revision split across responses, with the right key-value before each change.

const enc = new TextEncoder();
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

interface HistoryEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly rev: number;
  readonly value: string;
  /** The key's value before the change; undefined when it did not exist. */
  readonly prev: string | undefined;
}

interface WatchSpec {
  readonly stream: number;
  readonly id: number;
  readonly key: string;
  /** null: single key; '': from key on; else exclusive end. */
  readonly end: string | null;
  /** The first revision the watcher must see. */
  readonly from: number;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly got: WatchResponse[];
  canceled: boolean;
}

function inRange(spec: WatchSpec, key: string): boolean {
  if (spec.end === null) return key === spec.key;
  return key >= spec.key && (spec.end === '' || key < spec.end);
}

function describeKv(kv: KeyValue | undefined): string | undefined {
  return kv === undefined ? undefined : keyString(kv.value);
}

async function runScenario(seed: number): Promise<{ victims: number; batches: number }> {
  const r: Rand = seededRand(seed);
  const dir = mkdtempSync(join(tmpdir(), 'watch-prop-'));
  const backend = Backend.open({ path: join(dir, 'db') });
  try {
    const kv = KvStore.open(backend);
    const ws = new WatchableStore(kv, { maxWatchersPerSync: 1 + r.intn(6) });
    const streams: WatchStream[] = [ws.newWatchStream(1 + r.intn(3)), ws.newWatchStream(2 + r.intn(6)), ws.newWatchStream(64)];
    const history: HistoryEvent[] = [];
    const model = new Map<string, string>();
    const specs: WatchSpec[] = [];
    let maxVictims = 0;
    let partialBatches = 0;

    const drain = (si: number, limit: number): void => {
      const s = streams[si]!;
      for (let i = 0; i < limit; i++) {
        const resp = s.take();
        if (resp === undefined) break;
        const spec = specs.find((x) => x.stream === si && x.id === resp.watchId && !x.canceled);
        assert.ok(spec !== undefined, `seed ${seed}: response for unknown or canceled watcher ${resp.watchId}`);
        spec.got.push(resp);
      }
    };

    for (let step = 0; step < 300; step++) {
      const op = r.intn(100);
      if (op < 45) {
        const txn = kv.write();
        const before = new Map(model);
        const used = new Set<string>();
        const nops = 1 + r.intn(3);
        for (let i = 0; i < nops; i++) {
          const key = KEYS[r.intn(KEYS.length)]!;
          if (used.has(key)) continue;
          if (r.intn(4) === 0) {
            if (r.intn(3) === 0) {
              // A range delete over keys this txn has not touched.
              const end = KEYS[Math.min(KEYS.length - 1, KEYS.indexOf(key) + 1 + r.intn(3))]!;
              if (end <= key || KEYS.some((k) => k >= key && k < end && used.has(k))) continue;
              txn.deleteRange(enc.encode(key), enc.encode(end));
              for (const k of KEYS) if (k >= key && k < end) used.add(k);
            } else {
              txn.deleteRange(enc.encode(key));
              used.add(key);
            }
          } else {
            txn.put(enc.encode(key), enc.encode(`${key}${step}.${i}`));
            used.add(key);
          }
        }
        const { rev, events } = txn.end();
        for (const ev of events) {
          const key = keyString(ev.kv.key);
          const value = keyString(ev.kv.value);
          history.push({ type: ev.type, key, rev, value, prev: before.get(key) });
          if (ev.type === 'put') model.set(key, value);
          else model.delete(key);
        }
      } else if (op < 55) {
        const si = r.intn(streams.length);
        const key = KEYS[r.intn(KEYS.length)]!;
        const kind = r.intn(4);
        let end: string | null = null;
        if (kind === 1) end = KEYS[Math.min(KEYS.length - 1, KEYS.indexOf(key) + 1 + r.intn(3))]!;
        else if (kind === 2) end = '';
        if (end !== null && end !== '' && end <= key) end = null;
        const cur = kv.currentRev;
        const startRev = r.intn(3) === 0 ? 0 : 1 + r.intn(cur + 2);
        const filters: WatchFilter[] = [];
        const noPut = r.intn(8) === 0;
        const noDelete = !noPut && r.intn(6) === 0;
        if (noPut) filters.push('noPut');
        if (noDelete) filters.push('noDelete');
        const prevKv = r.intn(3) === 0;
        const rangeEnd = end === null ? undefined : end === '' ? new Uint8Array([0]) : enc.encode(end);
        const out = streams[si]!.watch(0, enc.encode(key), rangeEnd, startRev, filters, prevKv);
        assert.ok(out.ok);
        const from = startRev === 0 || startRev > cur ? Math.max(cur + 1, startRev) : startRev;
        specs.push({ stream: si, id: out.id, key, end, from, noPut, noDelete, prevKv, got: [], canceled: false });
      } else if (op < 70) {
        const before = ws.unsyncedCount;
        ws.sync(1 + r.intn(6));
        if (ws.unsyncedCount > 0 && before > 0) partialBatches++;
      } else if (op < 92) {
        drain(r.intn(streams.length), 1 + r.intn(4));
      } else if (op < 95) {
        const live = specs.filter((s) => !s.canceled);
        if (live.length > 0) {
          const victim = live[r.intn(live.length)]!;
          drain(victim.stream, Infinity);
          assert.ok(streams[victim.stream]!.cancel(victim.id));
          victim.canceled = true;
        }
      } else {
        await backend.commit();
      }
      maxVictims = Math.max(maxVictims, ws.victimCount);
    }

    // Let everything catch up: drain every stream and sync until nobody is behind.
    for (let round = 0; ; round++) {
      assert.ok(round < 10_000, `seed ${seed}: watchers never caught up`);
      for (let si = 0; si < streams.length; si++) drain(si, Infinity);
      if (ws.sync(4) === 0) {
        for (let si = 0; si < streams.length; si++) drain(si, Infinity);
        if (ws.unsyncedCount === 0 && ws.victimCount === 0) break;
      }
    }

    for (const spec of specs) {
      if (spec.canceled) continue;
      const want = history.filter(
        (e) => e.rev >= spec.from && inRange(spec, e.key) && !(e.type === 'put' ? spec.noPut : spec.noDelete),
      );
      const got = spec.got.flatMap((resp) => resp.events);
      const label = `seed ${seed} watcher ${spec.stream}/${spec.id} ${spec.key}..${spec.end} from ${spec.from}`;
      assert.deepEqual(
        got.map((e) => `${e.type} ${keyString(e.kv.key)}@${e.kv.modRevision}${e.type === 'put' ? `=${keyString(e.kv.value)}` : ''}`),
        want.map((e) => `${e.type} ${e.key}@${e.rev}${e.type === 'put' ? `=${e.value}` : ''}`),
        label,
      );
      if (spec.prevKv) {
        assert.deepEqual(got.map((e) => describeKv(e.prevKv)), want.map((e) => e.prev), `${label}: prevKv`);
      } else {
        assert.ok(got.every((e) => e.prevKv === undefined), `${label}: prevKv not asked for`);
      }
      let last = 0;
      for (const resp of spec.got) {
        assert.equal(resp.compactRevision, 0, label);
        if (resp.events.length === 0) continue;
        assert.ok(resp.events[0]!.kv.modRevision > last, `${label}: a revision split across responses or out of order`);
        last = resp.events[resp.events.length - 1]!.kv.modRevision;
      }
    }
    return { victims: maxVictims, batches: partialBatches };
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every watcher gets exactly its range of the history from its start revision, across batches and victims', async () => {
  let victims = 0;
  let batches = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const out = await runScenario(seed);
    victims += out.victims;
    batches += out.batches;
  }
  assert.ok(victims > 0, 'the scenarios made no victims: the slow-consumer path went untested');
  assert.ok(batches > 0, 'the scenarios never split a catch-up into batches');
});
