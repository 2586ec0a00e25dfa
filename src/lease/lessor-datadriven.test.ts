import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { Backend } from '../backend/backend.js';
import { keyString } from '../backend/key-string.js';
import { ManualClock } from '../pkg/clock.js';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../pkg/datadriven.js';
import { Lessor, type LeaseKeyDeleter } from './lessor.js';
import type { LessorConfig } from './lessor-config.js';

/**
 * Golden tests of the lessor over a real backend and a manual clock starting at 0. Commands:
 *   open [min-ttl=N] [checkpointing] [interval=MS] [revoke-rate=N]   (re)opens over the same backend
 *   grant id= ttl= | revoke id= | renew id= | checkpoint id= remaining= | ttl id= [keys]
 *   attach id= keys=a,b | detach id= keys=a | advance ms= | promote extend=MS | demote
 *   expired limit= | due [limit=] | leases
 * Revoked keys go through a deleter that detaches them as the mvcc store would.
 */
class Env {
  clock = new ManualClock(0);
  lessor: Lessor | undefined;
  deleted: string[] = [];

  constructor(readonly backend: Backend) {}

  le(): Lessor {
    if (this.lessor === undefined) throw new Error('open first');
    return this.lessor;
  }

  run(tc: TestCase): string {
    const num = (k: string): number => {
      const v = tc.args.get(k);
      if (v === undefined) throw new Error(`${tc.pos}: missing ${k}=`);
      return Number(v);
    };
    const id = (): bigint => BigInt(tc.args.get('id') ?? '0');
    const keys = (): string[] => (tc.args.get('keys') ?? '').split(',').filter((k) => k !== '');
    switch (tc.cmd) {
      case 'open':
        return this.open(tc);
      case 'grant': {
        const r = this.le().grant(id(), num('ttl'));
        return r.ok ? `granted ${r.lease.id} ttl=${r.lease.ttl}` : `error: ${r.code}`;
      }
      case 'revoke': {
        this.deleted = [];
        const r = this.le().revoke(id());
        if (!r.ok) return `error: ${r.code}`;
        const returned = r.keys.map((k) => keyString(k)).join(' ');
        return `revoked ${id()} keys=[${returned}] deleter=[${this.deleted.join(' ')}]`;
      }
      case 'renew': {
        const r = this.le().renew(id());
        return r.ok ? `renewed ${id()} ttl=${r.ttl}${r.clearCheckpoint ? ' clear-checkpoint' : ''}` : `error: ${r.code}`;
      }
      case 'checkpoint':
        return this.le().checkpoint(id(), num('remaining')) ? 'ok' : 'no such lease';
      case 'ttl': {
        const r = this.le().timeToLive(id(), tc.args.has('keys'));
        if (!r.ok) return `error: ${r.code}`;
        const ks = tc.args.has('keys') ? ` keys=[${r.keys.map((k) => keyString(k)).join(' ')}]` : '';
        return `ttl=${r.ttl} granted=${r.grantedTtl}${ks}`;
      }
      case 'attach':
      case 'detach': {
        const le = this.le();
        const out = keys().map((k) => (tc.cmd === 'attach' ? le.attach(id(), k) : le.detach(id(), k)));
        return out.every((ok) => ok) ? 'ok' : 'error: lease-not-found';
      }
      case 'advance':
        this.clock.advance(num('ms'));
        return `now=${this.clock.now()}`;
      case 'promote':
        this.le().promote(num('extend'));
        return this.leases();
      case 'demote':
        this.le().demote();
        return this.leases();
      case 'expired':
        return `[${this.le().findExpired(num('limit')).join(' ')}]`;
      case 'due': {
        const due = tc.args.has('limit') ? this.le().checkpointsDue(num('limit')) : this.le().checkpointsDue();
        return `[${due.map((c) => `${c.id}:${c.remainingTtl}`).join(' ')}]`;
      }
      case 'leases':
        return this.leases();
      default:
        throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
    }
  }

  private open(tc: TestCase): string {
    const config: LessorConfig = {
      minLeaseTtl: tc.args.has('min-ttl') ? Number(tc.args.get('min-ttl')) : 2,
      checkpointing: tc.args.has('checkpointing'),
      checkpointIntervalMs: tc.args.has('interval') ? Number(tc.args.get('interval')) : undefined,
      leaseRevokeRate: tc.args.has('revoke-rate') ? Number(tc.args.get('revoke-rate')) : undefined,
    };
    const le = Lessor.open(this.backend, this.clock, config);
    const deleter: LeaseKeyDeleter = {
      deleteKeys: (ks) => {
        for (const k of ks) {
          const key = keyString(k);
          this.deleted.push(key);
          le.detach(le.getLease(key), key);
        }
      },
    };
    le.setRangeDeleter(deleter);
    this.lessor = le;
    return `opened with ${le.size} leases`;
  }

  private leases(): string {
    const ls = this.le().leases();
    if (ls.length === 0) return 'no leases';
    return ls
      .map((l) => {
        const exp = l.expiry === Infinity ? 'never' : String(l.expiry);
        return `${l.id}: ttl=${l.ttl} checkpointed=${l.checkpointedTtl} expiry=${exp} keys=[${l.keys().join(' ')}]`;
      })
      .join('\n');
  }
}

const dir = sourceDirOf(import.meta.url);
for (const file of testdataFiles(join(dir, 'testdata'))) {
  test(`lessor golden ${basename(file)}`, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lessor-dd-'));
    const backend = Backend.open({ path: join(tmp, 'db'), unsafeNoSync: true });
    try {
      const env = new Env(backend);
      runDataDrivenFile(
        file,
        (tc) => {
          try {
            return env.run(tc);
          } catch (err) {
            return `panic: ${(err as Error).message}`;
          }
        },
        (tc, actual) => assert.equal(actual, tc.expected, `${tc.pos}: ${tc.cmd} ${tc.cmdArgs.join(' ')}`),
      );
    } finally {
      await backend.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
