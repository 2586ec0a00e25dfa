/**
 * A user's key permissions merged over all its roles (etcd's unifiedRangePermissions): one list of
 * intervals that may be read, one that may be written. Bounds compare as etcd's "affine" byte
 * strings, where the empty string stands for +infinity, so a permission whose range end is "\0"
 * (`--from-key`) reaches every key after its start.
 *
 * A point query (a single key) is permitted when some interval holds the key; a range query
 * [key, rangeEnd) when the intervals overlapping it cover it without a gap (etcd's
 * IntervalTree.Contains).
 */
import { Permission_Type, type Permission } from '../api/gen/authpb.js';

/** One half-open interval [begin, end) of keys; `end` undefined means +infinity. */
export interface KeyInterval {
  readonly begin: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/** Byte-wise comparison with the empty string as +infinity (etcd's BytesAffineComparable). */
export function compareAffine(a: Uint8Array | undefined, b: Uint8Array | undefined): number {
  const aInf = a === undefined || a.length === 0;
  const bInf = b === undefined || b.length === 0;
  if (aInf) return bInf ? 0 : 1;
  if (bInf) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** The interval a permission grants (etcd's getMergedPerms: no range end is one key, "\0" is open ended). */
export function permissionInterval(p: Permission): KeyInterval {
  if (p.rangeEnd.length === 0) return pointInterval(p.key);
  const openEnded = p.rangeEnd.length === 1 && p.rangeEnd[0] === 0;
  return { begin: p.key, end: openEnded ? undefined : p.rangeEnd };
}

/** The interval of exactly one key: [key, key + "\0"). */
function pointInterval(key: Uint8Array): KeyInterval {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { begin: key, end };
}

/** Whether two intervals overlap, exactly as etcd's adt.Interval.Compare answers 0. */
function overlaps(q: KeyInterval, iv: KeyInterval): boolean {
  const leftOf = compareAffine(q.begin, iv.begin) < 0 && compareAffine(q.end, iv.begin) <= 0;
  if (leftOf) return false;
  return compareAffine(q.begin, iv.end) < 0;
}

/** Intervals kept sorted by begin (ties in insertion order, as etcd's interval tree visits them). */
class IntervalSet {
  private readonly items: KeyInterval[] = [];

  insert(iv: KeyInterval): void {
    let i = this.items.length;
    while (i > 0 && compareAffine(this.items[i - 1]!.begin, iv.begin) > 0) i--;
    this.items.splice(i, 0, iv);
  }

  /** Whether some interval holds `key`. */
  holds(key: Uint8Array): boolean {
    for (const iv of this.items) {
      if (compareAffine(iv.begin, key) <= 0 && compareAffine(key, iv.end) < 0) return true;
    }
    return false;
  }

  /** Whether the intervals overlapping `q` cover it without a gap (etcd's IntervalTree.Contains). */
  covers(q: KeyInterval): boolean {
    let minBegin: Uint8Array | undefined;
    let maxEnd: Uint8Array | undefined;
    let started = false;
    for (const iv of this.items) {
      if (!overlaps(q, iv)) continue;
      if (!started) {
        started = true;
        minBegin = iv.begin;
        maxEnd = iv.end;
        continue;
      }
      if (compareAffine(maxEnd, iv.begin) < 0) return false;
      if (compareAffine(iv.end, maxEnd) > 0) maxEnd = iv.end;
    }
    return started && compareAffine(maxEnd, q.end) >= 0 && compareAffine(minBegin, q.begin) <= 0;
  }
}

/** The merged read and write permissions of one user. */
export class RangePermissions {
  private readonly read = new IntervalSet();
  private readonly write = new IntervalSet();

  /** Merges `perms` of every role, in the order given. */
  static of(perms: Iterable<Permission>): RangePermissions {
    const out = new RangePermissions();
    for (const p of perms) {
      const iv = permissionInterval(p);
      if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) out.read.insert(iv);
      if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) out.write.insert(iv);
    }
    return out;
  }

  /**
   * Whether `type` (READ or WRITE) is allowed on `key`, or on [key, rangeEnd) when `rangeEnd` is
   * non-empty ("\0" meaning every key from `key` on).
   */
  permits(type: Permission_Type.READ | Permission_Type.WRITE, key: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
    const set = type === Permission_Type.READ ? this.read : this.write;
    if (rangeEnd === undefined || rangeEnd.length === 0) return set.holds(key);
    const openEnded = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return set.covers({ begin: key, end: openEnded ? undefined : rangeEnd });
  }
}
