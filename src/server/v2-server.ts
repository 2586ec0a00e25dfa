/**
 * The member's v2 store and the v2 request path (etcd 3.4 etcdserver/v2_server.go and
 * apply_v2.go). Writes (PUT, POST, DELETE, and GET with quorum as QGET) are proposed through raft
 * as `InternalRaftRequest.v2` and applied here in log order, so every member's store agrees;
 * plain GETs and watches are served from the local store. TTL expiry is a SYNC request the leader
 * proposes every 500 ms while some node has a TTL, carrying the leader's clock, so every member
 * expires the same nodes at the same index.
 *
 * The store is not kept in the backend: it is rebuilt at boot from the raft snapshot's data (the
 * store's JSON, as etcd keeps it) plus the WAL entries after it, every v2 entry re-applied.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { ConfChangeType, type ConfChange } from '../api/raftpb/types.js';
import type { Clock } from '../pkg/clock.js';
import type { Logger } from '../pkg/logger.js';
import { memberFromJson } from './member.js';
import { newV2Error, V2ErrorCode, V2Store, type V2Error, type V2Event, type V2Outcome, type V2Watcher } from '../v2store/index.js';

/** The store's namespaces: "/0" holds cluster membership, "/1" the keys the v2 API serves. */
export const V2_NAMESPACES: readonly string[] = ['/0', '/1'];
/** Where the v2 API's keys live in the store (etcd's StoreKeysPrefix). */
export const V2_KEYS_PREFIX = '/1';
/** How often the leader sweeps expired TTL nodes (etcd's sync ticker). */
export const V2_SYNC_INTERVAL_MS = 500;

const MEMBER_ATTRIBUTES_PATH = /^\/0\/members\/[0-9a-f]+\/attributes$/;
const CLUSTER_VERSION_PATH = '/0/version';

/** etcd's ErrUnknownMethod, as the v2 API reports internal errors. */
const UNKNOWN_METHOD = (): V2Error => newV2Error(V2ErrorCode.RaftInternal, 'etcdserver: unknown method');

/** The answer to one v2 request: an event or a watcher, at the raft position the member is at. */
export type V2Response =
  | { readonly ok: true; readonly event: V2Event; readonly watcher?: undefined; readonly raftIndex: number; readonly raftTerm: number }
  | { readonly ok: true; readonly event?: undefined; readonly watcher: V2Watcher; readonly raftIndex: number; readonly raftTerm: number }
  | { readonly ok: false; readonly error: V2Error };

/** What the v2 path needs from its member. */
export interface V2ServerDeps {
  /** Proposes `req` through raft; resolves with what `apply` returned for it. Rejects with an RpcError. */
  propose(req: pb.Request): Promise<V2Outcome | undefined>;
  /** Proposes a request nobody waits for (SYNC). */
  proposeAsync(req: pb.Request): void;
  isLeader(): boolean;
  /** raft's term and committed index, for X-Raft-Term and X-Raft-Index. */
  raftTerm(): number;
  committedIndex(): number;
  /** The member's clock: TTL expiry times and SYNC times come from it. */
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Nanoseconds since the epoch of a clock reading in ms. */
function unixNano(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** ms since the epoch of a Unix-nanosecond field. */
function fromUnixNano(ns: bigint | undefined): number {
  return ns === undefined ? 0 : Number(ns / 1_000_000n);
}

/** The member's v2 store with its raft-backed request path; see the file comment. */
export class V2Server {
  readonly store: V2Store;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: V2ServerDeps) {
    this.store = new V2Store({ clock: d.clock, namespaces: V2_NAMESPACES });
  }

  /**
   * Applies a committed v2 request to the store (etcd's applierV2store), in log order on every
   * member, including when the WAL is replayed at boot. Returns the outcome for the waiter.
   */
  apply(r: pb.Request): V2Outcome | undefined {
    const store = this.store;
    const path = r.Path ?? '';
    const ttl = { expireTime: fromUnixNano(r.Expiration), refresh: r.Refresh === true };
    const prevValue = r.PrevValue ?? '';
    const prevIndex = r.PrevIndex ?? 0;
    switch (r.Method) {
      case 'POST':
        return store.create(path, r.Dir === true, r.Val ?? '', true, ttl);
      case 'PUT':
        if (r.PrevExist !== undefined) {
          if (!r.PrevExist) return store.create(path, r.Dir === true, r.Val ?? '', false, ttl);
          if (prevIndex === 0 && prevValue === '') return store.update(path, r.Val ?? '', ttl);
          return store.compareAndSwap(path, prevValue, prevIndex, r.Val ?? '', ttl);
        }
        if (prevIndex > 0 || prevValue !== '') return store.compareAndSwap(path, prevValue, prevIndex, r.Val ?? '', ttl);
        if (MEMBER_ATTRIBUTES_PATH.test(path) || path === CLUSTER_VERSION_PATH) {
          // The membership store applies these; the v2 store keeps a copy, as etcd's does.
          store.set(path, false, r.Val ?? '');
          return undefined;
        }
        return store.set(path, r.Dir === true, r.Val ?? '', ttl);
      case 'DELETE':
        if (prevIndex > 0 || prevValue !== '') return store.compareAndDelete(path, prevValue, prevIndex);
        return store.delete(path, r.Dir === true, r.Recursive === true);
      case 'QGET':
        return store.get(path, r.Recursive === true, r.Sorted === true);
      case 'SYNC':
        store.deleteExpiredKeys(fromUnixNano(r.Time));
        return undefined;
      default:
        return { ok: false, error: UNKNOWN_METHOD() };
    }
  }

  /**
   * Mirrors an applied membership change under /0 as etcd's membership does (raftAttributes of
   * added, promoted and updated members; /0/removed_members for removed ones), so the store's
   * index moves as etcd's does.
   */
  applyConfChange(cc: ConfChange): void {
    const key = `/0/members/${cc.nodeId.toString(16)}`;
    if (cc.type === ConfChangeType.ConfChangeRemoveNode) {
      this.store.delete(key, true, true);
      this.store.create(`/0/removed_members/${cc.nodeId.toString(16)}`, false, '', false);
      return;
    }
    const { member, isPromote } = memberFromJson(new TextDecoder().decode(cc.context));
    const raft = JSON.stringify(member.isLearner && !isPromote ? { peerURLs: member.peerUrls, isLearner: true } : { peerURLs: member.peerUrls });
    if (cc.type === ConfChangeType.ConfChangeUpdateNode || isPromote) this.store.update(`${key}/raftAttributes`, raft);
    else this.store.create(`${key}/raftAttributes`, false, raft, false);
  }

  /** Serves one v2 request (etcd's EtcdServer.Do): writes through raft, reads locally. Takes `r` over. */
  async do(r: pb.Request): Promise<V2Response> {
    let method = r.Method;
    if (method === 'GET' && r.Quorum === true) method = 'QGET';
    let out: V2Outcome | undefined;
    switch (method) {
      case 'POST':
      case 'PUT':
      case 'DELETE':
      case 'QGET':
        // The request is the caller's to give away: no copy on the write path.
        r.Method = method;
        out = await this.d.propose(r);
        if (out === undefined) return { ok: false, error: UNKNOWN_METHOD() };
        break;
      case 'GET':
      case 'HEAD':
        if (r.Wait === true) {
          const w = this.store.watch(r.Path ?? '', r.Recursive === true, r.Stream === true, r.Since ?? 0);
          if (!w.ok) return w;
          return { ok: true, watcher: w.watcher, raftIndex: this.d.committedIndex(), raftTerm: this.d.raftTerm() };
        }
        out = this.store.get(r.Path ?? '', r.Recursive === true, r.Sorted === true);
        break;
      default:
        return { ok: false, error: UNKNOWN_METHOD() };
    }
    if (!out.ok) return out;
    return { ok: true, event: out.event, raftIndex: this.d.committedIndex(), raftTerm: this.d.raftTerm() };
  }

  /** Starts the leader's TTL sweep (a SYNC every 500 ms while it leads and TTL nodes exist). */
  start(): void {
    this.syncTimer ??= setInterval(() => {
      if (!this.d.isLeader() || !this.store.hasTtlKeys()) return;
      this.d.proposeAsync({ Method: 'SYNC', Time: unixNano(this.d.clock.now()) });
    }, V2_SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  /** Stops the sweep. */
  stop(): void {
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
  }

  /** The store's state for a raft snapshot's data (etcd keeps exactly this JSON there). */
  save(): Uint8Array {
    return this.store.save();
  }

  /** Restores the store from a raft snapshot's data; empty data (an older snapshot) is ignored. */
  recover(data: Uint8Array): void {
    if (data.length === 0) return;
    this.store.recovery(data);
    this.d.logger.info('restored v2 store from snapshot', { index: this.store.currentIndex });
  }

  /** The TTL of a request in etcd's form: absolute expiry in Unix ns from the member's clock. */
  expirationFor(ttlSeconds: number): bigint {
    return unixNano(this.d.clock.now() + ttlSeconds * 1000);
  }
}

/** The v2 store's wire helpers the HTTP edge needs (it may not import the store itself). */
export {
  encodeClientEvent,
  encodeV2Error,
  formatRfc3339Nano,
  newV2Error,
  V2ErrorCode,
  v2ErrorStatus,
  type V2Error,
  type V2ErrorCodeValue,
  type V2Event,
} from '../v2store/index.js';
