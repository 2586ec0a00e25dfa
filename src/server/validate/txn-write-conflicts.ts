/**
 * etcd's rule that one branch of a transaction writes each key at most once (etcd 3.4
 * checkIntervals in etcdserver/api/v3rpc/key.go): within a branch, including the branches of
 * nested transactions, two puts of the same key, or a put of a key that a delete range covers,
 * are refused. Two deletes may overlap. The two branches of one nested transaction are exclusive,
 * so both may put the same key.
 *
 * Deletes are intervals [key, rangeEnd) compared byte-wise, a delete without range end is the
 * single key. A range end of "\0" (every key from `key` on) overlaps no put here: etcd compares
 * "\0" as an ordinary, smallest key, so such a delete never conflicts, and etcd 3.4 accepts a
 * put beside it; we keep that answer.
 */
import type { RequestOp } from '../../api/gen/etcdserverpb.js';
import { bytesEqual } from '../../pkg/bytes.js';

/** Keys as strings whose UTF-16 code units are the key's bytes, so `<` is byte-wise order. */
function keyString(key: Uint8Array): string {
  const buf = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return buf.toString('latin1');
}

// Below this many range deletes a linear scan beats sorting.
const LINEAR_RANGE_LIMIT = 16;

/** The deletes of a branch: single keys in a set, ranges as sorted-on-demand [begin, end) pairs. */
class DeleteSet {
  private readonly points = new Set<string>();
  private begins: string[] = [];
  private ends: string[] = [];
  // When sorted: maxEnd[i] is the greatest end among ranges 0..i (ranges sorted by begin).
  private maxEnd: string[] = [];
  private sorted = true;

  add(key: Uint8Array, rangeEnd: Uint8Array): void {
    if (rangeEnd.length === 0) {
      this.points.add(keyString(key));
    } else {
      this.begins.push(keyString(key));
      this.ends.push(keyString(rangeEnd));
      this.sorted = false;
    }
  }

  /** Adds every delete of `other` (etcd's union of a nested branch's deletes). */
  addAll(other: DeleteSet): void {
    for (const p of other.points) this.points.add(p);
    if (other.begins.length === 0) return;
    for (let i = 0; i < other.begins.length; i++) {
      this.begins.push(other.begins[i]!);
      this.ends.push(other.ends[i]!);
    }
    this.sorted = false;
  }

  /** Whether some delete covers `key`. */
  covers(key: string): boolean {
    if (this.points.has(key)) return true;
    const n = this.begins.length;
    if (n === 0) return false;
    if (n <= LINEAR_RANGE_LIMIT) {
      for (let i = 0; i < n; i++) if (this.begins[i]! <= key && key < this.ends[i]!) return true;
      return false;
    }
    if (!this.sorted) this.sort();
    // The last range beginning at or before `key`; some range at or before it covers `key`
    // exactly when the greatest end among them lies beyond `key`.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.begins[mid]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && key < this.maxEnd[lo - 1]!;
  }

  private sort(): void {
    const order = this.begins.map((_, i) => i).sort((a, b) => (this.begins[a]! < this.begins[b]! ? -1 : this.begins[a]! > this.begins[b]! ? 1 : 0));
    this.begins = order.map((i) => this.begins[i]!);
    this.ends = order.map((i) => this.ends[i]!);
    this.maxEnd = new Array<string>(this.ends.length);
    let max = '';
    for (let i = 0; i < this.ends.length; i++) {
      if (this.ends[i]! > max) max = this.ends[i]!;
      this.maxEnd[i] = max;
    }
    this.sorted = true;
  }
}

/** What one branch writes: put keys and deletes, nested branches included. */
interface BranchWrites {
  readonly puts: Set<string>;
  readonly dels: DeleteSet;
}

/** The writes of `ops`, or undefined when two of them collide. Mirrors etcd's order of checks. */
function collectWrites(ops: readonly RequestOp[]): BranchWrites | undefined {
  const dels = new DeleteSet();
  for (const op of ops) {
    const d = op.requestDeleteRange;
    if (d !== undefined) dels.add(d.key, d.rangeEnd);
  }
  const puts = new Set<string>();
  for (const op of ops) {
    const txn = op.requestTxn;
    if (txn === undefined) continue;
    const then = collectWrites(txn.success);
    if (then === undefined) return undefined;
    const otherwise = collectWrites(txn.failure);
    if (otherwise === undefined) return undefined;
    for (const k of then.puts) {
      if (puts.has(k) || dels.covers(k)) return undefined;
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      // A key put by both branches of the same nested txn is fine: only one branch runs.
      if ((puts.has(k) && !then.puts.has(k)) || dels.covers(k)) return undefined;
      puts.add(k);
    }
    dels.addAll(then.dels);
    dels.addAll(otherwise.dels);
  }
  for (const op of ops) {
    const p = op.requestPut;
    if (p === undefined) continue;
    const k = keyString(p.key);
    if (puts.has(k) || dels.covers(k)) return undefined;
    puts.add(k);
  }
  return { puts, dels };
}

// Up to this many puts (and no deletes or nested txns), duplicates are found by comparing
// bytes pairwise, without building strings.
const PAIRWISE_PUT_LIMIT = 8;

/**
 * Whether one branch of a txn writes a key twice (a put and a put, or a put inside a delete
 * range), counting nested transactions. The common small branch allocates nothing.
 */
export function hasWriteConflict(ops: readonly RequestOp[]): boolean {
  let putCount = 0;
  let others = 0;
  for (const op of ops) {
    if (op.requestPut !== undefined) putCount++;
    else if (op.requestDeleteRange !== undefined || op.requestTxn !== undefined) others++;
  }
  if (others === 0) {
    if (putCount <= 1) return false;
    if (putCount <= PAIRWISE_PUT_LIMIT) {
      for (let i = 0; i < ops.length; i++) {
        const a = ops[i]!.requestPut;
        if (a === undefined) continue;
        for (let j = i + 1; j < ops.length; j++) {
          const b = ops[j]!.requestPut;
          if (b !== undefined && bytesEqual(a.key, b.key)) return true;
        }
      }
      return false;
    }
  } else if (putCount === 0 && ops.every((op) => op.requestTxn === undefined)) {
    return false; // deletes only: they may overlap each other
  }
  return collectWrites(ops) === undefined;
}
