/**
 * The v2 tree store behind etcd's /v2/keys API (etcd 3.4 etcdserver/api/v2store store.go): a
 * tree of directories and files with per-node indexes and TTLs, an index that advances by one
 * with every successful write, an event history and watchers.
 *
 * Deterministic: writes happen in raft apply order, and anything that must agree across members
 * comes in as an argument — the expiry time of a TTL (computed once by the member that took the
 * request, as etcd carries it in the request) and the cutoff of an expiry sweep. The clock is
 * read only for what a response shows (the `ttl` seconds left).
 */
import type { Clock } from '../pkg/clock.js';
import { plainNode, type NodeExtern, type V2Action, type V2Event } from './event.js';
import { V2Node, type CompareResult } from './node.js';
import { cleanPath, joinChild, splitPath } from './node-path.js';
import { V2Stats, type V2StatsSnapshot } from './stats.js';
import { decodeStoreSnapshot, encodeStoreSnapshot } from './store-snapshot.js';
import { TtlKeyHeap } from './ttl-key-heap.js';
import { V2ErrorCode, newV2Error, type V2Error } from './v2-errors.js';
import { WatcherHub, type WatchOutcome } from './watcher-hub.js';

/** The store format version etcd writes into its snapshots. */
export const STORE_VERSION = 2;

/** Events kept for watches from the past (etcd's watcher hub capacity). */
export const DEFAULT_HISTORY_CAPACITY = 1000;

/**
 * Expiry times before 2000-01-01T00:00:00Z are taken as "permanent" on create and set, as etcd
 * does (a zero time that went through a JavaScript client comes back as a tiny positive one).
 */
export const MIN_EXPIRE_TIME_MS = 946_684_800_000;

/** TTL options of a write (etcd's TTLOptionSet). */
export interface TtlOptions {
  /** When the node expires, ms since the epoch; 0 or absent: permanent (and a TTL is cleared). */
  readonly expireTime?: number;
  /**
   * Only move the expiry: the value is kept, watchers are not told (the event still enters the
   * history, marked `refresh`). The HTTP layer rejects a refresh that carries a value.
   */
  readonly refresh?: boolean;
}

/** Outcome of a store operation: the event, or a v2 error to send as is. */
export type V2Outcome = { readonly ok: true; readonly event: V2Event } | { readonly ok: false; readonly error: V2Error };

/** Construction options. */
export interface V2StoreOptions {
  /** Read for the `ttl` shown in responses. */
  readonly clock: Clock;
  /**
   * Directories made at index 0 that, like the root, cannot be written or deleted. etcd's server
   * uses "/0" (cluster membership) and "/1" (the keys the v2 API serves).
   */
  readonly namespaces?: readonly string[];
  /** Events kept for watches from the past; etcd keeps 1,000. */
  readonly historyCapacity?: number;
}

type NodeOutcome = { readonly ok: true; readonly node: V2Node } | { readonly ok: false; readonly error: V2Error };

function compareFailCause(r: CompareResult, n: V2Node, prevValue: string, prevIndex: number): string {
  switch (r) {
    case 'index-mismatch':
      return `[${prevIndex} != ${n.modifiedIndex}]`;
    case 'value-mismatch':
      return `[${prevValue} != ${n.value}]`;
    default:
      return `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]`;
  }
}

function event(action: V2Action, node: NodeExtern, prevNode: NodeExtern | undefined, etcdIndex: number, refresh = false): V2Event {
  return { action, node, prevNode, etcdIndex, refresh };
}

function fail(error: V2Error): V2Outcome {
  return { ok: false, error };
}

/** The v2 store. Single-threaded: every call runs to completion before the next. */
export class V2Store {
  private root: V2Node;
  private index = 0;
  private storeVersion = STORE_VERSION;
  private readonly clock: Clock;
  private readonly readonlySet: ReadonlySet<string>;
  private readonly hub: WatcherHub;
  private readonly stats = new V2Stats();
  private readonly ttlHeap = new TtlKeyHeap<V2Node>();

  constructor(options: V2StoreOptions) {
    this.clock = options.clock;
    const namespaces = options.namespaces ?? [];
    this.root = V2Node.newDir('/', 0, undefined, 0);
    for (const ns of namespaces) {
      const path = cleanPath(ns);
      this.root.children!.set(splitPath(path)[1], V2Node.newDir(path, 0, this.root, 0));
    }
    this.readonlySet = new Set(['/', ...namespaces.map(cleanPath)]);
    this.hub = new WatcherHub(options.historyCapacity ?? DEFAULT_HISTORY_CAPACITY);
  }

  /** The store's index: the number of successful writes and expiries so far (etcd's CurrentIndex). */
  get currentIndex(): number {
    return this.index;
  }

  /** The store format version (2). */
  get version(): number {
    return this.storeVersion;
  }

  /** Number of watchers waiting for events. */
  get watcherCount(): number {
    return this.hub.count;
  }

  /**
   * Reads a node. A directory lists its children (without hidden ones), recursing into
   * sub-directories when `recursive`; `sorted` orders every listing by key.
   */
  get(nodePath: string, recursive = false, sorted = false): V2Outcome {
    const got = this.internalGet(nodePath);
    if (!got.ok) {
      this.stats.inc('getsFail');
      return got;
    }
    this.stats.inc('getsSuccess');
    const n = got.node;
    // etcd answers under the key as asked, not as cleaned.
    return { ok: true, event: event('get', n.load(nodePath, recursive, sorted, this.clock.now()), undefined, this.index) };
  }

  /**
   * Creates a node that must not exist yet, making missing parent directories. `unique` appends
   * a child named by the new index, zero-padded to 20 digits (POST: in-order keys).
   */
  create(nodePath: string, dir: boolean, value: string, unique: boolean, options: TtlOptions = {}): V2Outcome {
    const out = this.internalCreate(nodePath, dir, value, unique, false, options.expireTime ?? 0, 'create', undefined, false);
    if (!out.ok) {
      this.stats.inc('createFail');
      return out;
    }
    this.hub.notify(out.event);
    this.stats.inc('createSuccess');
    return out;
  }

  /** Creates or replaces a node (a directory is never replaced: 102). */
  set(nodePath: string, dir: boolean, value: string, options: TtlOptions = {}): V2Outcome {
    const refresh = options.refresh === true;
    const got = this.internalGet(nodePath);
    if (!got.ok && (got.error.errorCode !== V2ErrorCode.KeyNotFound || refresh)) {
      this.stats.inc('setsFail');
      return got;
    }
    if (refresh && got.ok) value = got.node.value;
    const out = this.internalCreate(nodePath, dir, value, false, true, options.expireTime ?? 0, 'set', nodePath, refresh);
    if (!out.ok) {
      this.stats.inc('setsFail');
      return out;
    }
    if (refresh) this.hub.add(out.event);
    else this.hub.notify(out.event);
    this.stats.inc('setsSuccess');
    return out;
  }

  /**
   * Changes an existing node's value and TTL; a directory takes only a TTL (a value is 102).
   * Without an expireTime the TTL is cleared.
   */
  update(nodePath: string, newValue: string, options: TtlOptions = {}): V2Outcome {
    nodePath = cleanPath(nodePath);
    // etcd 3.4 counts the read-only and directory-value refusals as successes: mirrored so
    // /v2/stats/store reads the same.
    if (this.readonlySet.has(nodePath)) {
      this.stats.inc('updateSuccess');
      return fail(newV2Error(V2ErrorCode.RootROnly, '/', this.index));
    }
    const currIndex = this.index;
    const nextIndex = currIndex + 1;
    const got = this.internalGet(nodePath);
    if (!got.ok) {
      this.stats.inc('updateFail');
      return got;
    }
    const n = got.node;
    if (n.isDir && newValue.length !== 0) {
      this.stats.inc('updateSuccess');
      return fail(newV2Error(V2ErrorCode.NotFile, nodePath, currIndex));
    }
    const refresh = options.refresh === true;
    if (refresh) newValue = n.value;
    const now = this.clock.now();
    const prevNode = n.repr(false, false, now);
    n.write(newValue, nextIndex);
    n.updateTtl(options.expireTime ?? 0, this.ttlHeap);
    const node: NodeExtern = {
      key: nodePath,
      value: n.isDir ? undefined : newValue,
      dir: n.isDir,
      expiration: n.expiration(),
      ttl: n.ttl(now),
      nodes: undefined,
      modifiedIndex: nextIndex,
      createdIndex: n.createdIndex,
    };
    const e = event('update', node, prevNode, nextIndex, refresh);
    if (refresh) this.hub.add(e);
    else this.hub.notify(e);
    this.index = nextIndex;
    this.stats.inc('updateSuccess');
    return { ok: true, event: e };
  }

  /**
   * Sets a file's value if its value equals `prevValue` ('' skips the test) and its
   * modifiedIndex equals `prevIndex` (0 skips the test); else 101 with etcd's cause text.
   */
  compareAndSwap(nodePath: string, prevValue: string, prevIndex: number, value: string, options: TtlOptions = {}): V2Outcome {
    nodePath = cleanPath(nodePath);
    if (this.readonlySet.has(nodePath)) {
      // Counted as a success, as etcd 3.4 does.
      this.stats.inc('compareAndSwapSuccess');
      return fail(newV2Error(V2ErrorCode.RootROnly, '/', this.index));
    }
    const got = this.internalGet(nodePath);
    if (!got.ok) {
      this.stats.inc('compareAndSwapFail');
      return got;
    }
    const n = got.node;
    if (n.isDir) {
      this.stats.inc('compareAndSwapFail');
      return fail(newV2Error(V2ErrorCode.NotFile, nodePath, this.index));
    }
    const cmp = n.compare(prevValue, prevIndex);
    if (cmp !== 'match') {
      this.stats.inc('compareAndSwapFail');
      return fail(newV2Error(V2ErrorCode.TestFailed, compareFailCause(cmp, n, prevValue, prevIndex), this.index));
    }
    const refresh = options.refresh === true;
    if (refresh) value = n.value;
    this.index++;
    const now = this.clock.now();
    const prevNode = n.repr(false, false, now);
    n.write(value, this.index);
    n.updateTtl(options.expireTime ?? 0, this.ttlHeap);
    const node: NodeExtern = {
      key: nodePath,
      value,
      dir: false,
      expiration: n.expiration(),
      ttl: n.ttl(now),
      nodes: undefined,
      modifiedIndex: this.index,
      createdIndex: n.createdIndex,
    };
    const e = event('compareAndSwap', node, prevNode, this.index, refresh);
    if (refresh) this.hub.add(e);
    else this.hub.notify(e);
    this.stats.inc('compareAndSwapSuccess');
    return { ok: true, event: e };
  }

  /**
   * Deletes a node. A directory needs `dir`, or `recursive` (which implies dir) when not empty.
   * Watchers of every removed node are told, including those below a deleted directory.
   */
  delete(nodePath: string, dir: boolean, recursive: boolean): V2Outcome {
    nodePath = cleanPath(nodePath);
    if (this.readonlySet.has(nodePath)) {
      // Counted as a success, as etcd 3.4 does.
      this.stats.inc('deleteSuccess');
      return fail(newV2Error(V2ErrorCode.RootROnly, '/', this.index));
    }
    if (recursive) dir = true;
    const got = this.internalGet(nodePath);
    if (!got.ok) {
      this.stats.inc('deleteFail');
      return got;
    }
    const n = got.node;
    const nextIndex = this.index + 1;
    const e = event('delete', plainNode(nodePath, nextIndex, n.createdIndex, n.isDir), n.repr(false, false, this.clock.now()), nextIndex);
    const err = n.remove(dir, recursive, this.ttlHeap, this.index, (path) => this.hub.notifyWatchers(e, path, true));
    if (err !== undefined) {
      this.stats.inc('deleteFail');
      return fail(err);
    }
    this.index = nextIndex;
    this.hub.notify(e);
    this.stats.inc('deleteSuccess');
    return { ok: true, event: e };
  }

  /** Deletes a file if `prevValue` and `prevIndex` match, as compareAndSwap tests them. */
  compareAndDelete(nodePath: string, prevValue: string, prevIndex: number): V2Outcome {
    nodePath = cleanPath(nodePath);
    const got = this.internalGet(nodePath);
    if (!got.ok) {
      this.stats.inc('compareAndDeleteFail');
      return got;
    }
    const n = got.node;
    // etcd 3.4 counts these two refusals as successes (its deferred counter sees no error).
    if (n.isDir) {
      this.stats.inc('compareAndDeleteSuccess');
      return fail(newV2Error(V2ErrorCode.NotFile, nodePath, this.index));
    }
    const cmp = n.compare(prevValue, prevIndex);
    if (cmp !== 'match') {
      this.stats.inc('compareAndDeleteSuccess');
      return fail(newV2Error(V2ErrorCode.TestFailed, compareFailCause(cmp, n, prevValue, prevIndex), this.index));
    }
    this.index++;
    const e = event('compareAndDelete', plainNode(nodePath, this.index, n.createdIndex), n.repr(false, false, this.clock.now()), this.index);
    n.remove(false, false, this.ttlHeap, this.index, (path) => this.hub.notifyWatchers(e, path, true));
    this.hub.notify(e);
    this.stats.inc('compareAndDeleteSuccess');
    return { ok: true, event: e };
  }

  /**
   * Watches `key` (and, when `recursive`, everything below it) from `sinceIndex` on; 0 means
   * the next index. An index still in the history is answered at once from it; one older than
   * the history is error 401.
   */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number): WatchOutcome {
    key = cleanPath(key);
    if (sinceIndex === 0) sinceIndex = this.index + 1;
    return this.hub.watch(key, recursive, stream, sinceIndex, this.index);
  }

  /**
   * Removes every node whose expiry is at or before `cutoffMs`, earliest first, each as an
   * `expire` event at its own index. The server runs this through raft (etcd's SYNC request) so
   * every member expires the same nodes at the same indexes. Returns the events.
   */
  deleteExpiredKeys(cutoffMs: number): V2Event[] {
    const events: V2Event[] = [];
    for (;;) {
      const n = this.ttlHeap.top();
      if (n === undefined || n.expireTime > cutoffMs) break;
      this.index++;
      const e = event('expire', plainNode(n.path, this.index, n.createdIndex, n.isDir), n.repr(false, false, this.clock.now()), this.index);
      this.ttlHeap.pop();
      n.remove(true, true, this.ttlHeap, this.index, (path) => this.hub.notifyWatchers(e, path, true));
      this.stats.inc('expireCount');
      this.hub.notify(e);
      events.push(e);
    }
    return events;
  }

  /** Whether any node has a TTL (the server sweeps only then). */
  hasTtlKeys(): boolean {
    return this.ttlHeap.length !== 0;
  }

  /** The counters of /v2/stats/store. */
  statsSnapshot(): V2StatsSnapshot {
    return this.stats.snapshot(this.hub.count);
  }

  /** The /v2/stats/store body as etcd writes it. */
  jsonStats(): string {
    return this.stats.toJson(this.hub.count);
  }

  /**
   * The store's state as etcd's snapshot JSON (tree, event history, index, counters, version);
   * watchers are not saved.
   */
  save(): Uint8Array {
    return encodeStoreSnapshot({
      root: this.root,
      history: this.hub.history,
      currentIndex: this.index,
      stats: this.stats.snapshot(this.hub.count),
      version: this.storeVersion,
    });
  }

  /**
   * Replaces the state with a snapshot from `save` (or etcd's): tree, history, index, counters.
   * Watchers stay, as in etcd. Throws an EtcdError ('v2-snapshot-corrupt') on a malformed
   * snapshot, leaving the store unchanged.
   */
  recovery(state: Uint8Array): void {
    const snap = decodeStoreSnapshot(state);
    this.root = snap.root;
    this.index = snap.currentIndex;
    this.storeVersion = snap.version;
    this.hub.history = snap.history;
    this.stats.restore(snap.stats);
    this.ttlHeap.clear();
    this.rebuildTtlHeap(this.root);
  }

  private rebuildTtlHeap(n: V2Node): void {
    if (n.children !== undefined) for (const child of n.children.values()) this.rebuildTtlHeap(child);
    if (n.expireTime !== 0) this.ttlHeap.push(n);
  }

  private internalGet(nodePath: string): NodeOutcome {
    const path = cleanPath(nodePath);
    let curr = this.root;
    if (path === '/') return { ok: true, node: curr };
    let start = 1;
    for (;;) {
      const end = path.indexOf('/', start);
      const name = end < 0 ? path.slice(start) : path.slice(start, end);
      if (curr.children === undefined) return { ok: false, error: newV2Error(V2ErrorCode.NotDir, curr.path, this.index) };
      const child = curr.children.get(name);
      if (child === undefined) return { ok: false, error: newV2Error(V2ErrorCode.KeyNotFound, joinChild(curr.path, name), this.index) };
      curr = child;
      if (end < 0) return { ok: true, node: curr };
      start = end + 1;
    }
  }

  /** Walks the directories of `dirPath` (ending in '/'), making missing ones (etcd's checkDir). */
  private walkMakingDirs(dirPath: string): NodeOutcome {
    let curr = this.root;
    let start = 1;
    for (;;) {
      const end = dirPath.indexOf('/', start);
      if (end < 0 || end === start) return { ok: true, node: curr };
      const name = dirPath.slice(start, end);
      const child = curr.children!.get(name);
      if (child === undefined) {
        const made = V2Node.newDir(joinChild(curr.path, name), this.index + 1, curr, 0);
        curr.children!.set(name, made);
        curr = made;
      } else if (child.isDir) {
        curr = child;
      } else {
        return { ok: false, error: newV2Error(V2ErrorCode.NotDir, child.path, this.index) };
      }
      start = end + 1;
    }
  }

  private internalCreate(
    nodePath: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expireTime: number,
    action: V2Action,
    prevKey: string | undefined,
    refresh: boolean,
  ): V2Outcome {
    const currIndex = this.index;
    const nextIndex = currIndex + 1;
    if (unique) nodePath += '/' + String(nextIndex).padStart(20, '0');
    nodePath = cleanPath(nodePath);
    if (this.readonlySet.has(nodePath)) return fail(newV2Error(V2ErrorCode.RootROnly, '/', currIndex));
    if (expireTime < MIN_EXPIRE_TIME_MS) expireTime = 0;
    const [dirName, nodeName] = splitPath(nodePath);
    const walked = this.walkMakingDirs(dirName);
    if (!walked.ok) {
      // etcd counts a failed walk as a failed set too, whatever the operation.
      this.stats.inc('setsFail');
      return walked;
    }
    const d = walked.node;
    const now = this.clock.now();
    let prevNode: NodeExtern | undefined;
    const existing = d.children!.get(nodeName);
    if (existing !== undefined) {
      if (!replace) return fail(newV2Error(V2ErrorCode.NodeExist, nodePath, currIndex));
      if (existing.isDir) return fail(newV2Error(V2ErrorCode.NotFile, nodePath, currIndex));
      prevNode = existing.load(prevKey ?? existing.path, false, false, now);
      existing.remove(false, false, this.ttlHeap, currIndex);
    }
    const n = dir ? V2Node.newDir(nodePath, nextIndex, d, expireTime) : V2Node.newKv(nodePath, value, nextIndex, d, expireTime);
    d.children!.set(nodeName, n);
    if (expireTime !== 0) this.ttlHeap.push(n);
    const node: NodeExtern = {
      key: nodePath,
      value: dir ? undefined : value,
      dir,
      expiration: n.expiration(),
      ttl: n.ttl(now),
      nodes: undefined,
      modifiedIndex: nextIndex,
      createdIndex: nextIndex,
    };
    this.index = nextIndex;
    return { ok: true, event: event(action, node, prevNode, nextIndex, refresh) };
  }
}
