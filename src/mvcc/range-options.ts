import type { KeyValue } from './key-value.js';
import type { RangeReader, RevisionFailure } from './range-result.js';
import { compareBytes } from '../pkg/bytes.js';

/** Sort order of a RangeRequest; the numbers are the proto enum's. */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
/** A SortOrder value. */
export type SortOrder = (typeof SortOrder)[keyof typeof SortOrder];

/** Sort target of a RangeRequest; the numbers are the proto enum's. */
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
/** A SortTarget value. */
export type SortTarget = (typeof SortTarget)[keyof typeof SortTarget];

/** The fields of etcd's RangeRequest that mvcc serves (serializable is the server's). */
export interface RangeRequest {
  readonly key: Uint8Array;
  /** Absent or empty: only `key`; "\0": every key from `key` on; else the exclusive end. */
  readonly rangeEnd?: Uint8Array;
  /** At most this many key-values (0: no limit). */
  readonly limit?: number;
  /** Read at this revision (0: current). */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  /** Filters, 0: off. Keys outside are dropped from `kvs` (`count` still counts them, as etcd). */
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

/** The fields of etcd's RangeResponse that mvcc fills. */
export interface RangeResponse {
  readonly ok: true;
  readonly kvs: KeyValue[];
  /** Keys alive in the range, before limit and filters. */
  readonly count: number;
  /** Whether the limit cut off key-values. */
  readonly more: boolean;
  /** The header revision. */
  readonly rev: number;
}

function comparatorOf(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}

/**
 * Serves a RangeRequest as etcd 3.4's applier does: sorting or filtering reads every match
 * before cutting to `limit`, otherwise one extra key-value is read to tell `more`; a sort target
 * other than KEY with order NONE sorts ascending. Sorting is stable (ties stay in key order).
 */
export function rangeRequest(reader: RangeReader, req: RangeRequest): RangeResponse | RevisionFailure {
  const reqLimit = req.limit ?? 0;
  const minMod = req.minModRevision ?? 0;
  const maxMod = req.maxModRevision ?? 0;
  const minCreate = req.minCreateRevision ?? 0;
  const maxCreate = req.maxCreateRevision ?? 0;
  let order = req.sortOrder ?? SortOrder.NONE;
  const target = req.sortTarget ?? SortTarget.KEY;
  let limit = reqLimit;
  if (order !== SortOrder.NONE || minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0) limit = 0;
  if (limit > 0) limit++;

  const r = reader.range(req.key, req.rangeEnd, {
    limit,
    rev: req.revision ?? 0,
    countOnly: req.countOnly === true,
    keysOnly: req.keysOnly === true && target !== SortTarget.VALUE,
  });
  if (!r.ok) return r;

  let kvs = r.kvs;
  if (maxMod !== 0 || minMod !== 0 || maxCreate !== 0 || minCreate !== 0) {
    kvs = kvs.filter(
      (kv) =>
        (maxMod === 0 || kv.modRevision <= maxMod) &&
        (minMod === 0 || kv.modRevision >= minMod) &&
        (maxCreate === 0 || kv.createRevision <= maxCreate) &&
        (minCreate === 0 || kv.createRevision >= minCreate),
    );
  }
  if (target !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order !== SortOrder.NONE) {
    const cmp = comparatorOf(target);
    kvs.sort(order === SortOrder.DESCEND ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (reqLimit > 0 && kvs.length > reqLimit) {
    kvs = kvs.slice(0, reqLimit);
    more = true;
  }
  if (req.keysOnly === true && target === SortTarget.VALUE) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
  return { ok: true, kvs, count: r.count, more, rev: r.rev };
}
