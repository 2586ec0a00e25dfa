/**
 * Crash tests of the implementation under test (E2E_TARGET, default etcd-ts): a real member process
 * is killed with SIGKILL at a random moment while many clients write; after a restart every write
 * whose response the client had received is present with the revision that response carried, and
 * the revision counter went on from there. Then the WAL is damaged by hand: a torn tail is repaired
 * at boot, a corrupt record in the middle stops the member with a clear error instead of a
 * silent loss. The seed of the random kill moments is printed; CRASH_SEED=<n> replays it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../../src/api/codec.js';
import type { PutRequest, PutResponse, RangeRequest, RangeResponse } from '../../src/api/gen/etcdserverpb.js';
import { seededRand } from '../../src/pkg/rand.js';
import { startMember, targetKind, targetSkipReason, type Member } from './harness/index.js';

const kind = targetKind();
const skip = await targetSkipReason(kind);
const seed = Number(process.env['CRASH_SEED'] ?? Date.now() % 100000);

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
interface KvClient extends grpc.Client {
  Put: Unary<Partial<PutRequest>, PutResponse>;
  Range: Unary<Partial<RangeRequest>, RangeResponse>;
}

function kvClient(m: Member): KvClient {
  const Ctor = grpc.makeGenericClientConstructor(grpcServices.KV, grpcServiceNames.KV);
  return new Ctor(m.endpoint, grpc.credentials.createInsecure()) as unknown as KvClient;
}

function put(c: KvClient, key: string, value: string): Promise<PutResponse> {
  return new Promise((resolve, reject) => {
    c.Put({ key: Buffer.from(key), value: Buffer.from(value) }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

function range(c: KvClient, req: Partial<RangeRequest>): Promise<RangeResponse> {
  return new Promise((resolve, reject) => {
    c.Range(req, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** Writers put distinct keys until stopped; returns each acknowledged key with its revision. */
function writeLoad(c: KvClient, writers: number, prefix: string): { acked: Map<string, number>; stop: () => Promise<void> } {
  const acked = new Map<string, number>();
  let running = true;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}/${w}/${i}`;
      try {
        const res = await put(c, key, `v-${key}`);
        acked.set(key, res.header!.revision);
      } catch {
        return; // the member died: this write was never acknowledged
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

function walFiles(m: Member): string[] {
  const dir = join(m.dataDir, 'member', 'wal');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .map((f) => join(dir, f));
}

describe(`${kind}: crashes under write load lose no acknowledged write (seed ${seed})`, { skip }, () => {
  const members: Member[] = [];
  after(async () => {
    await Promise.all(members.map((m) => m.destroy()));
  });

  test('SIGKILL at random moments under 32 concurrent writers keeps every acknowledged write at its revision', async (t) => {
    const rand = seededRand(seed);
    const m = await startMember(kind, { name: 'crash' });
    members.push(m);
    const everAcked = new Map<string, number>();
    let lastRevision = 0;
    for (let round = 0; round < 3; round++) {
      const client = kvClient(m);
      const load = writeLoad(client, 32, `r${round}`);
      await new Promise((r) => setTimeout(r, 300 + rand.intn(900)));
      await m.kill9();
      await load.stop();
      client.close();
      assert.ok(load.acked.size > 0, `round ${round}: some writes were acknowledged before the kill`);
      t.diagnostic(`round ${round}: ${load.acked.size} writes acknowledged before SIGKILL`);
      for (const [k, rev] of load.acked) everAcked.set(k, rev);

      await m.restart();
      const check = kvClient(m);
      const all = await range(check, { key: Buffer.from('r'), rangeEnd: Buffer.from('s'), serializable: false });
      const found = new Map(all.kvs.map((kv) => [Buffer.from(kv.key).toString(), kv]));
      for (const [key, rev] of everAcked) {
        const kv = found.get(key);
        assert.ok(kv, `round ${round}: acknowledged key ${key} (revision ${rev}) is missing after the crash`);
        assert.equal(kv.modRevision, rev, `round ${round}: ${key} has revision ${kv.modRevision}, was acknowledged at ${rev}`);
        assert.equal(Buffer.from(kv.value).toString(), `v-${key}`);
      }
      const maxAcked = Math.max(...load.acked.values());
      assert.ok(all.header!.revision >= maxAcked, 'the revision counter did not go back');
      assert.ok(all.header!.revision >= lastRevision);
      lastRevision = all.header!.revision;
      // A write after the restart gets the next revision: the counter is persisted, not rebuilt from keys.
      const next = await put(check, 'after-crash', `${round}`);
      assert.equal(next.header!.revision, lastRevision + 1);
      lastRevision += 1;
      check.close();
    }
  });

  test('a torn WAL tail is repaired at boot and a corrupt middle record refuses to start with a clear error', async () => {
    const m = await startMember(kind, { name: 'torn' });
    members.push(m);
    const c = kvClient(m);
    for (let i = 0; i < 200; i++) await put(c, `k${i}`, 'x'.repeat(100));
    c.close();
    await m.kill9();

    // Torn tail: garbage after the last record, as a write cut short by a crash leaves it.
    const files = walFiles(m);
    const last = files[files.length - 1]!;
    const fd = openSync(last, 'r+');
    const buf = Buffer.alloc(statSync(last).size);
    readSync(fd, buf, 0, buf.length, 0);
    let end = buf.length;
    while (end > 0 && buf[end - 1] === 0) end--; // the preallocated zero tail follows the records
    writeSync(fd, Buffer.from([0x13, 0x37, 0x00, 0x00, 0x00, 0x00, 0x00]), 0, 7, end + 8 - (end % 8));
    closeSync(fd);
    await m.restart();
    const after1 = kvClient(m);
    const r = await range(after1, { key: Buffer.from('k'), rangeEnd: Buffer.from('l'), countOnly: true });
    assert.equal(r.count, 200, 'every record before the torn tail survives');
    if (kind === 'etcd-ts') assert.match(m.logTail(200), /repaired the torn tail of the WAL/, 'the repair is logged');
    after1.close();
    await m.kill9();

    // Corruption in the middle: flip a byte inside the first segment's records.
    const first = walFiles(m)[0]!;
    const fd2 = openSync(first, 'r+');
    const b = Buffer.alloc(1);
    const at = Math.floor(end / 2);
    readSync(fd2, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd2, b, 0, 1, at);
    closeSync(fd2);
    await assert.rejects(m.restart(10_000), 'a member with a corrupt WAL must not become ready');
    const log = m.logTail(40);
    assert.match(log, /wal|WAL/, `the error names the WAL: ${log}`);
    assert.match(log, /corrupt|crc|CRC|mismatch/i, `the error says what is wrong: ${log}`);
    assert.notEqual(m.exitStatus?.code ?? 1, 0, 'the member exits non-zero');
  });
});
