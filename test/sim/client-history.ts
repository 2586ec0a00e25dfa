/**
 * What the simulated clients saw, and the checks over it:
 * - revisions strictly increase: a write that changed the store and was invoked after another
 *   write was acknowledged got a higher revision;
 * - linearizable reads are never stale: a read answers at a revision at least that of every write
 *   acknowledged before it was invoked, and (checked at the end against a member's history) what
 *   it returned is exactly the store at that revision;
 * - no acknowledged write is lost: every acknowledged put is in every member's final history at
 *   its revision, every acknowledged delete left the key absent there;
 * - acknowledged lease grants survive unless a revoke of the lease was applied.
 */
import type { KvStore, KeyValue } from '../../src/mvcc/index.js';
import type { Lessor } from '../../src/lease/index.js';

/** An acknowledged write. */
export interface AckedWrite {
  readonly what: string;
  readonly rev: number;
  readonly puts: readonly { key: Uint8Array; value: Uint8Array; lease: bigint }[];
  readonly deletes: readonly Uint8Array[];
  readonly member: bigint;
  readonly tick: number;
}

/** A linearizable read that was answered. */
export interface AnsweredRead {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly rev: number;
  readonly kvs: readonly KeyValue[];
  readonly member: bigint;
  readonly tick: number;
}

const dec = new TextDecoder();

function text(b: Uint8Array): string {
  return dec.decode(b);
}

function sameKv(a: KeyValue, b: KeyValue): boolean {
  return (
    Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) === 0 &&
    Buffer.compare(Buffer.from(a.value), Buffer.from(b.value)) === 0 &&
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    a.version === b.version &&
    a.lease === b.lease
  );
}

/** The history of one run; see the file comment. */
export class ClientHistory {
  /** The highest revision of any acknowledged write so far. */
  maxAckedRev = 0;
  readonly writes: AckedWrite[] = [];
  readonly reads: AnsweredRead[] = [];
  readonly grants = new Set<bigint>();
  /** Leases some member applied a successful revoke of (asked for or expired). */
  readonly revoked = new Set<bigint>();
  /** Outcomes that were errors (timeouts, no leader, crashed member...). */
  failed = 0;

  constructor(private readonly fail: (msg: string) => never) {}

  /** A write was acknowledged; `minRev` was maxAckedRev when it was invoked. */
  ackWrite(w: AckedWrite, minRev: number, changed: boolean): void {
    if (changed ? w.rev <= minRev : w.rev < minRev) {
      this.fail(`${w.what} acknowledged by ${w.member} at revision ${w.rev}, but a write acknowledged before it was invoked had revision ${minRev}`);
    }
    this.writes.push(w);
    if (w.rev > this.maxAckedRev) this.maxAckedRev = w.rev;
  }

  /** A linearizable read was answered; `minRev` was maxAckedRev when it was invoked. */
  answerRead(r: AnsweredRead, minRev: number): void {
    if (r.rev < minRev) {
      this.fail(`stale read of ${text(r.key)} on ${r.member}: answered at revision ${r.rev}, after a write at ${minRev} was acknowledged`);
    }
    this.reads.push(r);
  }

  /** Checks one member's final state against everything acknowledged; throws on the first miss. */
  checkFinal(member: bigint, kv: KvStore, lessor: Lessor): void {
    const compacted = kv.compactRev;
    for (const w of this.writes) {
      if (w.rev > kv.currentRev) this.fail(`member ${member} is at revision ${kv.currentRev}, below acknowledged ${w.what} at ${w.rev}`);
      for (const p of w.puts) {
        if (w.rev <= compacted) {
          // Compacted history: the key was not changed back to something older.
          const cur = kv.range(p.key);
          if (cur.ok && cur.kvs.length > 0 && cur.kvs[0]!.modRevision < w.rev) {
            this.fail(`member ${member}: ${text(p.key)} at modRevision ${cur.kvs[0]!.modRevision}, older than acknowledged ${w.what} at ${w.rev}`);
          }
          continue;
        }
        const rr = kv.range(p.key, undefined, { rev: w.rev });
        const got = rr.ok ? rr.kvs[0] : undefined;
        if (got === undefined || got.modRevision !== w.rev || Buffer.compare(Buffer.from(got.value), Buffer.from(p.value)) !== 0 || got.lease !== p.lease) {
          this.fail(
            `member ${member} lost acknowledged ${w.what} (from ${w.member} at tick ${w.tick}): ${text(p.key)}=${text(p.value)} at revision ${w.rev}; has ${
              got === undefined ? 'nothing' : `${text(got.value)}@${got.modRevision}`
            }`,
          );
        }
      }
      if (w.rev <= compacted) continue;
      for (const k of w.deletes) {
        const rr = kv.range(k, undefined, { rev: w.rev });
        if (rr.ok && rr.kvs.length > 0) this.fail(`member ${member}: ${text(k)} exists at revision ${w.rev} after an acknowledged delete there`);
      }
    }
    for (const id of this.grants) {
      if (lessor.lookup(id) === undefined && !this.revoked.has(id)) this.fail(`member ${member} lost acknowledged lease ${id.toString(16)}`);
    }
  }

  /** Checks that every answered read returned exactly the history at its revision (on `kv`, one member's final store). */
  checkReads(member: bigint, kv: KvStore): number {
    let checked = 0;
    for (const r of this.reads) {
      if (r.rev <= kv.compactRev) continue;
      const rr = kv.range(r.key, r.rangeEnd.length === 0 ? undefined : r.rangeEnd, { rev: r.rev });
      if (!rr.ok) this.fail(`member ${member}: history at revision ${r.rev} unreadable: ${rr.code}`);
      const same = rr.kvs.length === r.kvs.length && rr.kvs.every((kv, i) => sameKv(kv, r.kvs[i]!));
      if (!same) {
        const show = (l: readonly KeyValue[]): string => l.map((x) => `${text(x.key)}=${text(x.value)}@${x.modRevision}`).join(' ');
        this.fail(`read on ${r.member} at tick ${r.tick} (revision ${r.rev}) returned [${show(r.kvs)}], history of ${member} there has [${show(rr.kvs)}]`);
      }
      checked++;
    }
    return checked;
  }
}
