import { keyString, keyStringAt } from '../backend/key-string.js';
import { EMPTY_BYTES, type Event } from './key-value.js';
import { decodeKeyValue, KeyValueFields, readKeyValue } from './kv-codec.js';
import type { KvStore, TxnListener } from './kv-store.js';
import { isTombstoneKey, mainOfRevBytes, mainRevPrefix, revToBytes } from './revision.js';
import type { WatchEvent, WatchResponse } from './watch-response.js';
import { DEFAULT_WATCH_STREAM_CAPACITY, WatchStream, type WatchHost } from './watch-stream.js';
import type { Watcher, WatcherState } from './watcher.js';
import { WatcherGroup } from './watcher-group.js';

/** Default number of revision records one `syncWatchers` call reads from the backend. */
export const DEFAULT_SYNC_BATCH_EVENTS = 1000;

/** Default number of unsynced watchers one `syncWatchers` call catches up (etcd's maxWatchersPerSync). */
export const DEFAULT_MAX_WATCHERS_PER_SYNC = 512;

/** Options of a WatchableStore. */
export interface WatchableStoreOptions {
  /** Revision records read per `syncWatchers` call; a transaction is never split, so one may read more. */
  readonly syncBatchEvents?: number;
  /** Unsynced watchers caught up per `syncWatchers` call. */
  readonly maxWatchersPerSync?: number;
}

/**
 * etcd's watchableStore: the MVCC store plus watchers that receive every change in their key
 * range from a start revision, in revision order, never twice, never skipping one, all of one
 * transaction's events in one response.
 *
 * Watchers live in one of three places. `synced` watchers have seen the store's revision; every
 * write transaction hands its events to them as it ends (`notify`, registered as the KvStore's
 * transaction listener). `unsynced` watchers started in the past, or fell behind; the periodic
 * `sync` reads their missed revisions from the backend in bounded batches and moves them to
 * synced once caught up. `victims` found their stream's queue full; each keeps the one response
 * it could not queue (writers never wait), resends it when the stream drains, then catches up
 * from the backend as an unsynced watcher. So memory stays bounded however slow a consumer is.
 *
 * Synchronous and deterministic: the server calls `sync` every 100 ms (and sooner while it
 * reports work left). Not re-entrant: stream listeners must not call back into the store.
 */
export class WatchableStore implements WatchHost {
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new WatcherGroup();
  private readonly victims = new Set<Watcher>();
  /** Streams with a progress-all request waiting for their watchers to be synced. */
  private readonly deferred = new Set<WatchStream>();
  private readonly syncBatchEvents: number;
  private readonly maxWatchersPerSync: number;
  private readonly listener: TxnListener;
  private busy = false;
  // Scratch, reused by every notify and sync so the hot path allocates little.
  private readonly matches: Watcher[] = [];
  private readonly chosen: Watcher[] = [];
  private readonly perWatcher = new Map<Watcher, WatchEvent[]>();
  private readonly fields = new KeyValueFields();

  /** Wraps `kv`: from now on every write transaction of `kv` notifies the watchers. */
  constructor(
    /** The store watched; writes go to it directly. Replaced only by `restore`. */
    public kv: KvStore,
    options: WatchableStoreOptions = {},
  ) {
    this.syncBatchEvents = options.syncBatchEvents ?? DEFAULT_SYNC_BATCH_EVENTS;
    this.maxWatchersPerSync = options.maxWatchersPerSync ?? DEFAULT_MAX_WATCHERS_PER_SYNC;
    this.listener = (rev, events) => this.notify(rev, events);
    kv.setTxnListener(this.listener);
  }

  /** Stops watching `kv`'s writes. Streams stay open but get nothing more. */
  close(): void {
    this.kv.setTxnListener(undefined);
  }

  /**
   * Watches `kv` instead, the store that replaced the watched one (a leader's snapshot was
   * installed: etcd's watchableStore.Restore). Synced watchers have not seen the revisions the
   * new store brought: they become unsynced, and `sync` catches them up from the new store.
   */
  restore(kv: KvStore): void {
    this.kv.setTxnListener(undefined);
    this.kv = kv;
    kv.setTxnListener(this.listener);
    for (const w of [...this.synced.watchers]) {
      this.synced.delete(w);
      this.toUnsynced(w);
    }
  }

  /** The store's current revision. */
  get currentRev(): number {
    return this.kv.currentRev;
  }

  /** Number of synced watchers. */
  get syncedCount(): number {
    return this.synced.size;
  }

  /** Number of watchers waiting to be caught up from the backend. */
  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  /** Number of watchers holding a response their full stream could not take. */
  get victimCount(): number {
    return this.victims.size;
  }

  /** A new watch stream whose outgoing queue holds at most `capacity` responses. */
  newWatchStream(capacity: number = DEFAULT_WATCH_STREAM_CAPACITY): WatchStream {
    return new WatchStream(this, capacity);
  }

  private enter(): void {
    if (this.busy) throw new Error('watch: re-entrant call into the watchable store (a stream listener must not call back)');
    this.busy = true;
  }

  private leave(): void {
    this.busy = false;
  }

  private setState(w: Watcher, s: WatcherState): void {
    const wasBehind = w.state === 'unsynced' || w.state === 'victim';
    const isBehind = s === 'unsynced' || s === 'victim';
    if (wasBehind !== isBehind) w.sink.behind += isBehind ? 1 : -1;
    if ((w.state === 'victim') !== (s === 'victim')) w.sink.victims += s === 'victim' ? 1 : -1;
    w.state = s;
  }

  private toSynced(w: Watcher): void {
    this.synced.add(w);
    this.setState(w, 'synced');
  }

  private toUnsynced(w: Watcher): void {
    this.unsynced.add(w);
    this.setState(w, 'unsynced');
  }

  /** A full stream: the watcher keeps `resp` and leaves every group (etcd's victim). */
  private toVictim(w: Watcher, resp: WatchResponse): void {
    w.pending = resp;
    this.victims.add(w);
    this.setState(w, 'victim');
  }

  /** @internal See WatchHost.addWatcher. */
  addWatcher(w: Watcher, startRev: number): void {
    const cur = this.kv.currentRev;
    if (startRev <= 0 || startRev > cur) {
      // Nothing to replay: it sees the next write on (or its start revision, if later).
      w.minRev = Math.max(cur + 1, startRev);
      this.toSynced(w);
    } else {
      w.minRev = startRev;
      this.toUnsynced(w);
    }
  }

  /** @internal See WatchHost.removeWatcher. */
  removeWatcher(w: Watcher): void {
    if (w.state === 'synced') this.synced.delete(w);
    else if (w.state === 'unsynced') this.unsynced.delete(w);
    else if (w.state === 'victim') this.victims.delete(w);
    w.pending = undefined;
    this.setState(w, 'canceled');
  }

  /** @internal See WatchHost.deferProgress. */
  deferProgress(stream: WatchStream): void {
    this.deferred.add(stream);
  }

  /** @internal See WatchHost.drained: the stream's victims resend, its deferred progress goes out. */
  drained(stream: WatchStream): void {
    if (this.busy) return;
    this.enter();
    try {
      if (stream.victims > 0) this.retryVictims(stream.watcherList());
      if (stream.progressAllPending && stream.maybeProgressAll()) this.deferred.delete(stream);
    } finally {
      this.leave();
    }
  }

  /**
   * Hands the events of the write transaction that just ended at `rev` to the synced watchers
   * of their keys (etcd's notify). Registered as the KvStore's transaction listener.
   */
  notify(rev: number, events: readonly Event[]): void {
    if (this.synced.size === 0 || events.length === 0) return;
    this.enter();
    try {
      if (events.length === 1) this.notifyOne(rev, events[0]!);
      else this.notifyMany(rev, events);
    } finally {
      this.matches.length = 0;
      this.perWatcher.clear();
      this.leave();
    }
  }

  private notifyOne(rev: number, ev: Event): void {
    const matches = this.matches;
    const n = this.synced.match(keyString(ev.kv.key), matches);
    let plain: WatchEvent[] | undefined;
    let withPrev: WatchEvent[] | undefined;
    for (let i = 0; i < n; i++) {
      const w = matches[i]!;
      if (w.minRev > rev) continue;
      const evs = w.prevKv ? (withPrev ??= [this.withPrevKv(ev)]) : (plain ??= [ev]);
      this.deliverLive(w, evs, rev);
    }
  }

  private notifyMany(rev: number, events: readonly Event[]): void {
    const matches = this.matches;
    const per = this.perWatcher;
    let prevs: (WatchEvent | undefined)[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const n = this.synced.match(keyString(ev.kv.key), matches);
      for (let j = 0; j < n; j++) {
        const w = matches[j]!;
        if (w.minRev > rev) continue;
        let e: WatchEvent = ev;
        if (w.prevKv) {
          prevs ??= new Array<WatchEvent | undefined>(events.length);
          e = prevs[i] ??= this.withPrevKv(ev);
        }
        const list = per.get(w);
        if (list === undefined) per.set(w, [e]);
        else list.push(e);
      }
    }
    for (const [w, list] of per) this.deliverLive(w, list, rev);
  }

  /** Sends a synced watcher its events of revision `rev`; a full stream makes it a victim. */
  private deliverLive(w: Watcher, evs: WatchEvent[], rev: number): void {
    w.minRev = rev + 1;
    const resp = this.respond(w, evs, rev);
    if (resp === undefined || w.sink.trySend(resp)) return;
    this.synced.delete(w);
    this.toVictim(w, resp);
  }

  /** The response of `evs` for `w` after its filters; undefined when they leave nothing. */
  private respond(w: Watcher, evs: WatchEvent[], rev: number): WatchResponse | undefined {
    let out = evs;
    if (w.noPut || w.noDelete) {
      out = evs.filter((e) => (e.type === 'put' ? !w.noPut : !w.noDelete));
      if (out.length === 0) return undefined;
    }
    return { watchId: w.id, events: out, revision: rev, compactRevision: 0 };
  }

  /** `ev` with the key's key-value at the revision before it, when there was one and it is not compacted. */
  private withPrevKv(ev: Event): WatchEvent {
    const r = this.kv.range(ev.kv.key, undefined, { rev: ev.kv.modRevision - 1 });
    if (!r.ok || r.kvs.length === 0) return ev;
    return { type: ev.type, kv: ev.kv, prevKv: r.kvs[0]! };
  }

  /**
   * The periodic work the server runs every 100 ms: victims of drained streams resend, unsynced
   * watchers catch up by one batch of at most about `maxEvents` revision records, deferred
   * progress notifications go out. Returns the number of watchers still behind (unsynced or
   * victims); while it falls, the server may call again without waiting the full period.
   */
  sync(maxEvents: number = this.syncBatchEvents): number {
    this.syncVictims();
    this.syncWatchers(maxEvents);
    if (this.deferred.size > 0) this.flushDeferred();
    return this.unsynced.size + this.victims.size;
  }

  private flushDeferred(): void {
    this.enter();
    try {
      for (const s of this.deferred) {
        if (s.isClosed || !s.progressAllPending || s.maybeProgressAll()) this.deferred.delete(s);
      }
    } finally {
      this.leave();
    }
  }

  /**
   * Victims whose stream has room resend their response, then go back to unsynced (or synced
   * when nothing was written since) (etcd's moveVictims). Returns how many moved.
   */
  syncVictims(): number {
    if (this.victims.size === 0) return 0;
    this.enter();
    try {
      return this.retryVictims(this.victims);
    } finally {
      this.leave();
    }
  }

  private retryVictims(candidates: Iterable<Watcher>): number {
    const curRev = this.kv.currentRev;
    let moved = 0;
    for (const w of candidates) {
      if (w.state !== 'victim' || !w.sink.trySend(w.pending!)) continue;
      w.pending = undefined;
      this.victims.delete(w);
      if (w.minRev <= curRev) this.toUnsynced(w);
      else this.toSynced(w);
      moved++;
    }
    return moved;
  }

  /**
   * Catches up unsynced watchers by one batch (etcd's syncWatchers): takes up to the per-sync
   * number of them, tells those whose next revision was compacted, reads revision records from
   * the lowest next revision on, at most `maxEvents` of them but never part of a transaction,
   * and sends each watcher its events. Watchers the batch brought to the current revision
   * become synced. Returns the number of unsynced watchers left.
   */
  syncWatchers(maxEvents: number = this.syncBatchEvents): number {
    if (this.unsynced.size === 0) return 0;
    this.enter();
    try {
      const curRev = this.kv.currentRev;
      const chosen = this.chooseUnsynced(curRev, this.kv.compactRev);
      if (chosen.length === 0) return this.unsynced.size;
      let minRev = Number.MAX_SAFE_INTEGER;
      for (const w of chosen) if (w.minRev < minRev) minRev = w.minRev;
      const group = chosen.length === this.unsynced.size ? this.unsynced : groupOf(chosen);
      const endRev = this.readEvents(group, minRev, curRev, Math.max(1, maxEvents));
      const caughtUp = endRev === curRev;
      const per = this.perWatcher;
      for (const w of chosen) {
        // The batch stopped before this watcher's next revision: it waits for the next one.
        if (w.minRev > endRev) continue;
        const evs = per.get(w);
        w.minRev = endRev + 1;
        this.unsynced.delete(w);
        if (evs !== undefined) {
          const resp = this.respond(w, evs, curRev);
          if (resp !== undefined && !w.sink.trySend(resp)) {
            this.toVictim(w, resp);
            continue;
          }
        }
        // Re-adding puts it last, so beyond the per-sync limit others get their turn first.
        if (caughtUp) this.toSynced(w);
        else this.unsynced.add(w);
      }
      return this.unsynced.size;
    } finally {
      this.chosen.length = 0;
      this.matches.length = 0;
      this.perWatcher.clear();
      this.leave();
    }
  }

  /**
   * Up to the per-sync limit of unsynced watchers to catch up now. Those whose next revision was
   * compacted are told so instead (etcd's watcherGroup.choose) and leave the group; when their
   * stream is full they stay to be told next time.
   */
  private chooseUnsynced(curRev: number, compactRev: number): Watcher[] {
    const chosen = this.chosen;
    for (const w of this.unsynced.watchers) {
      if (chosen.length >= this.maxWatchersPerSync) break;
      if (w.minRev > curRev) {
        this.unsynced.delete(w);
        this.toSynced(w);
        continue;
      }
      if (w.minRev < compactRev) {
        if (w.sink.trySend({ watchId: w.id, events: [], revision: curRev, compactRevision: compactRev })) {
          this.unsynced.delete(w);
          this.setState(w, 'compacted');
        }
        continue;
      }
      chosen.push(w);
    }
    return chosen;
  }

  /**
   * Reads the revision records from `minRev` up to `curRev`, stopping after about `maxEvents`
   * at a revision boundary, and collects in `perWatcher` the events of each watcher of `group`
   * at or after its own next revision. Returns the last revision read completely.
   */
  private readEvents(group: WatcherGroup, minRev: number, curRev: number, maxEvents: number): number {
    const per = this.perWatcher;
    const matches = this.matches;
    const f = this.fields;
    let seen = 0;
    let lastMain = 0;
    let cut = false;
    let anyPrevKv = false;
    this.kv.backend.scan(this.kv.keyBucket, revToBytes(minRev, 0), mainRevPrefix(curRev + 1), (k, v) => {
      const main = mainOfRevBytes(k);
      // A transaction's records share a main revision: stop only between transactions.
      if (seen >= maxEvents && main !== lastMain) {
        cut = true;
        return false;
      }
      seen++;
      lastMain = main;
      readKeyValue(v, f);
      const n = group.match(keyStringAt(v, f.keyStart, f.keyEnd), matches);
      if (n === 0) return true;
      let ev: Event | undefined;
      for (let i = 0; i < n; i++) {
        const w = matches[i]!;
        if (main < w.minRev) continue;
        ev ??= eventOf(k, v, main);
        if (w.prevKv) anyPrevKv = true;
        const list = per.get(w);
        if (list === undefined) per.set(w, [ev]);
        else list.push(ev);
      }
      return true;
    });
    // The key-values before the changes are read after the scan: no reads nested in it.
    if (anyPrevKv) {
      const cache = new Map<WatchEvent, WatchEvent>();
      for (const [w, list] of per) {
        if (!w.prevKv) continue;
        for (let i = 0; i < list.length; i++) {
          const ev = list[i]!;
          let e = cache.get(ev);
          if (e === undefined) cache.set(ev, (e = this.withPrevKv(ev)));
          list[i] = e;
        }
      }
    }
    return cut ? lastMain : curRev;
  }
}

/** The event of the revision record (k, v) at main revision `main`. */
function eventOf(k: Uint8Array, v: Uint8Array, main: number): Event {
  if (!isTombstoneKey(k)) return { type: 'put', kv: decodeKeyValue(v) };
  // A tombstone holds only the key; the event carries the deleting revision, as etcd sends it.
  const key = decodeKeyValue(v, true).key;
  return { type: 'delete', kv: { key, createRevision: 0, modRevision: main, version: 0, value: EMPTY_BYTES, lease: 0n } };
}

function groupOf(watchers: readonly Watcher[]): WatcherGroup {
  const g = new WatcherGroup();
  for (const w of watchers) g.add(w);
  return g;
}
