/**
 * End-to-end Watch and Lease tests of the implementation under test (E2E_TARGET, default
 * etcd-ts) through the real etcdctl and a generated gRPC client: watches that follow writes live
 * and replay history, interactive watch over stdin, the lease commands, expiry deleting attached
 * keys (seen by a watcher), leases surviving a restart, and a service registry of 50 instances
 * keeping their registrations alive. E2E_TARGET=etcd runs them against real etcd.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../src/api/gen/etcdserverpb.js';
import { ETCDCTL_BIN, etcdctl, startMember, targetKind, targetSkipReason, type Member } from './harness/index.js';
import { kvClient, leaseClient, watchClient } from './harness/grpc-clients.js';

const kind = targetKind();
const skip = await targetSkipReason(kind);

async function ok(m: Member, args: readonly string[]): Promise<string> {
  const r = await etcdctl(m.endpoint, args);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A long-running etcdctl (watch) whose stdout is collected as it comes. */
class LiveCtl {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  constructor(m: Member, args: readonly string[]) {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCDCTL_')) env[k] = v;
    this.child = spawn(ETCDCTL_BIN, [`--endpoints=${m.endpoint}`, ...args], { env: { ...env, ETCDCTL_API: '3' } });
    this.child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    this.child.stderr.on('data', () => undefined);
  }

  /** Waits until the output has `lines` lines (or fails after `ms`). */
  async waitLines(lines: number, ms = 10_000): Promise<string[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = this.out.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
      if (got.length >= lines) return got;
      if (Date.now() > deadline) assert.fail(`watch printed ${got.length} of ${lines} lines: ${JSON.stringify(this.out)}`);
      await sleep(20);
    }
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The lease ID etcdctl printed for `lease grant` ("lease <hex> granted with TTL(<n>s)"). */
function grantedId(out: string): string {
  const m = /^lease ([0-9a-f]+) granted with TTL\((\d+)s\)/.exec(out);
  assert.ok(m, `unexpected grant output: ${out}`);
  return m[1]!;
}

describe(`${kind}: end-to-end Watch and Lease`, { skip }, () => {
  const members: Member[] = [];
  after(async () => {
    await Promise.all(members.map((m) => m.destroy()));
  });

  async function member(name: string): Promise<Member> {
    const m = await startMember(kind, { name });
    members.push(m);
    return m;
  }

  test('watch --prefix --prev-kv prints live puts and deletes with their previous values', async () => {
    const m = await member('watch-live');
    await ok(m, ['put', 'svc/a', 'old']);
    const w = new LiveCtl(m, ['watch', '--prefix', 'svc/', '--prev-kv']);
    try {
      // The watch is created asynchronously: put until it reports the first event.
      await sleep(500);
      await ok(m, ['put', 'svc/a', 'new']);
      await ok(m, ['put', 'other', 'x']);
      await ok(m, ['del', 'svc/a']);
      const lines = await w.waitLines(10);
      assert.deepEqual(lines.slice(0, 10), ['PUT', 'svc/a', 'old', 'svc/a', 'new', 'DELETE', 'svc/a', 'new', 'svc/a', '']);
    } finally {
      w.stop();
    }
  });

  test('watch --rev replays history from a past revision, then follows', async () => {
    const m = await member('watch-rev');
    await ok(m, ['put', 'h', '1']); // revision 2
    await ok(m, ['put', 'h', '2']); // revision 3
    await ok(m, ['put', 'h', '3']); // revision 4
    const w = new LiveCtl(m, ['watch', '--rev=3', 'h']);
    try {
      await w.waitLines(6);
      await ok(m, ['put', 'h', '4']);
      assert.deepEqual(await w.waitLines(9), ['PUT', 'h', '2', 'PUT', 'h', '3', 'PUT', 'h', '4']);
    } finally {
      w.stop();
    }
  });

  test('interactive watch -i takes watch commands on stdin', async () => {
    const m = await member('watch-i');
    const w = new LiveCtl(m, ['watch', '-i']);
    try {
      w.child.stdin.write('watch ik\n');
      await sleep(500);
      await ok(m, ['put', 'ik', 'iv']);
      assert.deepEqual(await w.waitLines(3), ['PUT', 'ik', 'iv']);
    } finally {
      w.stop();
    }
  });

  test('lease grant, put --lease, timetolive --keys, keep-alive --once, list, revoke', async () => {
    const m = await member('lease-cmds');
    const id = grantedId(await ok(m, ['lease', 'grant', '60']));
    await ok(m, ['put', '--lease', id, 'lk1', 'v']);
    await ok(m, ['put', '--lease', id, 'lk2', 'v']);
    const ttl = await ok(m, ['lease', 'timetolive', '--keys', id]);
    assert.match(ttl, new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[lk1 lk2\\]\\)`));
    assert.match(await ok(m, ['lease', 'keep-alive', '--once', id]), new RegExp(`^lease ${id} keepalived with TTL\\(60\\)`));
    assert.match(await ok(m, ['lease', 'list']), new RegExp(`found 1 leases\\n${id}\\n`));
    const bad = await etcdctl(m.endpoint, ['put', '--lease', '1234abcd', 'k', 'v']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Error: etcdserver: requested lease not found/);
    assert.match(await ok(m, ['lease', 'revoke', id]), new RegExp(`lease ${id} revoked`));
    assert.equal(await ok(m, ['get', '--prefix', 'lk']), '');
    assert.match(await ok(m, ['lease', 'timetolive', id]), new RegExp(`lease ${id} already expired`));
    const again = await etcdctl(m.endpoint, ['lease', 'revoke', id]);
    assert.match(again.stderr, /etcdserver: requested lease not found/);
    const big = await etcdctl(m.endpoint, ['lease', 'grant', '9000000001']);
    assert.match(big.stderr, /etcdserver: too large lease TTL/);
  });

  test('an expired lease deletes its keys in one revision and a watcher sees the deletes', async () => {
    const m = await member('lease-expiry');
    const id = grantedId(await ok(m, ['lease', 'grant', '2']));
    await ok(m, ['put', '--lease', id, 'eph/1', 'a']);
    await ok(m, ['put', '--lease', id, 'eph/2', 'b']);
    const w = new LiveCtl(m, ['watch', '--prefix', 'eph/', '-w', 'json']);
    try {
      const started = Date.now();
      for (;;) {
        if ((await ok(m, ['get', '--prefix', 'eph/', '--keys-only'])) === '') break;
        assert.ok(Date.now() - started < 5000, 'keys of an expired 2 s lease still there after 5 s');
        await sleep(100);
      }
      const deadline = Date.now() + 5000;
      while (!w.out.includes('\n') && Date.now() < deadline) await sleep(20);
      const resp = JSON.parse(w.out.split('\n')[0]!) as { Events: { type: number | string; kv: { mod_revision: number } }[] };
      assert.equal(resp.Events.length, 2);
      assert.equal(resp.Events[0]!.kv.mod_revision, resp.Events[1]!.kv.mod_revision);
    } finally {
      w.stop();
    }
  });

  test('a restart keeps leases and their keys', async () => {
    const m = await member('lease-restart');
    const id = grantedId(await ok(m, ['lease', 'grant', '100']));
    await ok(m, ['put', '--lease', id, 'keep', 'v']);
    await m.restart();
    assert.match(await ok(m, ['lease', 'timetolive', '--keys', id]), /granted with TTL\(100s\), remaining\(\d+s\), attached keys\(\[keep\]\)/);
    assert.match(await ok(m, ['lease', 'list']), new RegExp(id));
  });

  test('service registry: 50 instances keep 2 s leases alive; 10 that stop vanish within TTL + 1 s', async () => {
    const m = await member('registry');
    const address = m.endpoint;
    const lease = leaseClient(address);
    const kv = kvClient(address);
    const watcher = watchClient(address);
    const enc = new TextEncoder();
    const live = new Set<string>();
    const deletedAt = new Map<string, number>();
    const watch = watcher.Watch();
    const streams: grpc.ClientDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      let created!: () => void;
      const createdP = new Promise<void>((resolve) => (created = resolve));
      watch.on('data', (r: pb.WatchResponse) => {
        if (r.created) created();
        for (const ev of r.events) {
          const key = new TextDecoder().decode(ev.kv!.key);
          if (ev.type === 0) live.add(key);
          else {
            live.delete(key);
            deletedAt.set(key, Date.now());
          }
        }
      });
      watch.on('error', () => undefined);
      watch.write(pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest({ key: enc.encode('registry/'), rangeEnd: enc.encode('registry0') }) }));
      await createdP;
      const grant = (): Promise<pb.LeaseGrantResponse> =>
        new Promise((resolve, reject) => lease.LeaseGrant(pb.createLeaseGrantRequest({ TTL: 2 }), (e, r) => (e ? reject(e) : resolve(r!))));
      const put = (key: string, id: bigint): Promise<pb.PutResponse> =>
        new Promise((resolve, reject) => kv.Put(pb.createPutRequest({ key: enc.encode(key), value: enc.encode('up'), lease: id }), (e, r) => (e ? reject(e) : resolve(r!))));
      const ids = await Promise.all(Array.from({ length: 50 }, () => grant()));
      await Promise.all(ids.map((g, i) => put(`registry/instance-${i}`, g.ID)));
      for (const g of ids) {
        const s = lease.LeaseKeepAlive();
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        streams.push(s);
        s.write({ ID: g.ID });
        timers.push(setInterval(() => s.write({ ID: g.ID }), 500));
      }
      const deadline = Date.now() + 5000;
      while (live.size < 50 && Date.now() < deadline) await sleep(20);
      assert.equal(live.size, 50);
      // Ten instances stop keeping alive.
      const stoppedAt = Date.now();
      for (let i = 0; i < 10; i++) {
        clearInterval(timers[i]);
        streams[i]!.end();
      }
      while (live.size > 40 && Date.now() - stoppedAt < 6000) await sleep(20);
      assert.equal(live.size, 40, `still registered: ${[...live].filter((k) => Number(k.split('-')[1]) < 10).join(',')}`);
      for (let i = 0; i < 10; i++) {
        const at = deletedAt.get(`registry/instance-${i}`);
        assert.ok(at !== undefined && at - stoppedAt <= 3000, `instance-${i} vanished after ${at === undefined ? '?' : at - stoppedAt} ms`);
      }
      // The others stay through several more TTLs.
      await sleep(3000);
      assert.equal(live.size, 40);
      for (let i = 10; i < 50; i++) assert.ok(live.has(`registry/instance-${i}`));
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of streams) s.cancel();
      watch.cancel();
      lease.close();
      kv.close();
      watcher.close();
    }
  });
});
