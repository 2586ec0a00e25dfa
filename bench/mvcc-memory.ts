/**
 * mvcc at scale: loads KEYS keys (default 1,000,000) of 256-byte values through KvStore in apply
 * batches of 1,000 puts per backend commit, then measures ranges of 100 keys, the memory held
 * (RSS, heap) and the time to reopen (restore the index from the backend).
 *
 *   node --expose-gc dist/bench/mvcc-memory.js            (KEYS=200000 for a quicker run)
 *
 * Prints `mvcc: <N> puts/s`, `mvcc: <N> ranges/s`, `mvcc: rss <N> MiB` lines; CPU time per
 * operation is printed too, as wall-clock rates suffer on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backend } from '../src/backend/backend.js';
import { KvStore } from '../src/mvcc/kv-store.js';

const KEYS = Number(process.env['KEYS'] ?? 1_000_000);
const BATCH = 1000;
const VALUE_SIZE = 256;

/** A bijection on 32-bit integers, so keys arrive in a scattered order without repeats. */
function mix(i: number): number {
  let x = (i + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function keyOf(i: number): Uint8Array {
  return Buffer.from(`/registry/pods/default/pod-${mix(i).toString(16).padStart(8, '0')}`);
}

/** CPU microseconds (user + system, every thread) spent since `from`, per operation. */
function cpuMicros(from: NodeJS.CpuUsage, ops: number): string {
  const d = process.cpuUsage(from);
  return ((d.user + d.system) / ops).toFixed(1);
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(0);
const gc = (globalThis as { gc?: () => void }).gc;

function memory(label: string): void {
  gc?.();
  const m = process.memoryUsage();
  console.log(`${label}: rss ${mib(m.rss)} MiB, heap used ${mib(m.heapUsed)} MiB, external ${mib(m.external)} MiB, array buffers ${mib(m.arrayBuffers)} MiB`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mvcc-bench-'));
  const path = join(dir, 'db');
  try {
    memory('start');
    let be = Backend.open({ path });
    let kv = KvStore.open(be);
    const value = new Uint8Array(VALUE_SIZE).fill(0x61);
    let index = 0;
    // As the host loop does: apply the next batch while the previous commit is still running,
    // waiting only when two are in flight.
    let inFlight: Promise<void> = Promise.resolve();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let done = 0; done < KEYS; done += BATCH) {
      for (let i = done; i < Math.min(KEYS, done + BATCH); i++) kv.put(keyOf(i), value);
      be.setConsistentIndex(++index);
      const committing = kv.commit();
      await inFlight;
      inFlight = committing;
    }
    await inFlight;
    const loadSec = (performance.now() - t0) / 1000;
    console.log(`mvcc: ${Math.round(KEYS / loadSec)} puts/s (${KEYS} keys, ${BATCH} puts per commit, ${VALUE_SIZE}-byte values, ${loadSec.toFixed(1)} s, ${cpuMicros(c0, KEYS)} CPU us per put, all threads)`);
    memory(`after ${KEYS} keys`);
    const size = be.size();
    console.log(`backend: file ${mib(size.size)} MiB, in use ${mib(size.sizeInUse)} MiB`);

    // Keys spread evenly over the 2^32 suffix space; a window 1.3x the width that holds 100 keys
    // on average almost always holds at least 100, so `limit: 100` returns 100.
    const window = Math.ceil((2 ** 32 / KEYS) * 130);
    const suffix = (n: number): Uint8Array => Buffer.from(`/registry/pods/default/pod-${Math.min(n, 2 ** 32 - 1).toString(16).padStart(8, '0')}`);
    let ranges = 0;
    let kvsRead = 0;
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    while (performance.now() - t1 < 3000) {
      for (let j = 0; j < 100; j++) {
        const start = mix(ranges++) % (2 ** 32 - window);
        const r = kv.range(suffix(start), suffix(start + window), { limit: 100 });
        if (r.ok) kvsRead += r.kvs.length;
      }
    }
    const rangeSec = (performance.now() - t1) / 1000;
    console.log(`mvcc: ${Math.round(ranges / rangeSec)} ranges/s of 100 keys (${(kvsRead / ranges).toFixed(1)} kvs per range, ${cpuMicros(c1, ranges)} CPU us per range)`);
    memory('after ranges');

    await be.close();
    const t2 = performance.now();
    be = Backend.open({ path });
    kv = KvStore.open(be);
    console.log(`mvcc: reopen (restore ${kv.index.size} keys) ${((performance.now() - t2) / 1000).toFixed(1)} s, currentRev ${kv.currentRev}`);
    memory('after reopen');
    console.log(`mvcc: rss ${mib(process.memoryUsage().rss)} MiB`);
    await be.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
