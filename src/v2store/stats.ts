/**
 * Operation counters of the v2 store, served at /v2/stats/store (etcd 3.4
 * etcdserver/api/v2store stats.go). Field names are the JSON names.
 */

/** A copy of the counters, in etcd's JSON field order. */
export interface V2StatsSnapshot {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  /** Watchers waiting in the hub; filled in when the stats are read. */
  watchers: number;
}

/** One counter's name. */
export type V2StatName = Exclude<keyof V2StatsSnapshot, 'watchers'>;

/** The JSON field names in etcd's order. */
export const V2_STAT_FIELDS: readonly (keyof V2StatsSnapshot)[] = [
  'getsSuccess',
  'getsFail',
  'setsSuccess',
  'setsFail',
  'deleteSuccess',
  'deleteFail',
  'updateSuccess',
  'updateFail',
  'createSuccess',
  'createFail',
  'compareAndSwapSuccess',
  'compareAndSwapFail',
  'compareAndDeleteSuccess',
  'compareAndDeleteFail',
  'expireCount',
  'watchers',
];

/** The store's counters. */
export class V2Stats {
  private readonly c: V2StatsSnapshot = {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
    watchers: 0,
  };

  /** Adds one to a counter. */
  inc(name: V2StatName): void {
    this.c[name]++;
  }

  /** A copy of the counters; `watchers` as given. */
  snapshot(watchers: number): V2StatsSnapshot {
    return { ...this.c, watchers };
  }

  /** Overwrites the counters present in `from` (recovery; etcd decodes over its own). */
  restore(from: Partial<Record<keyof V2StatsSnapshot, unknown>>): void {
    for (const f of V2_STAT_FIELDS) {
      const v = from[f];
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) this.c[f] = v;
    }
  }

  /** The counters as etcd's JSON (`watchers` as given). */
  toJson(watchers: number): string {
    const s = this.snapshot(watchers);
    return '{' + V2_STAT_FIELDS.map((f) => `"${f}":${s[f]}`).join(',') + '}';
  }
}
