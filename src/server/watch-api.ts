/**
 * What the API edges may ask of a member's watches: a stream of watchers over the member's MVCC
 * store (etcd's mvcc.WatchStream seen from v3rpc). The types mirror src/mvcc's so the edges need
 * not import it; the member hands out the store's own streams.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import type * as mvccpb from '../api/gen/mvccpb.js';

/** One change: a put or a delete, with the previous key-value when the watcher asked for it. */
export interface WatchStreamEvent {
  readonly type: 'put' | 'delete';
  readonly kv: mvccpb.KeyValue;
  readonly prevKv?: mvccpb.KeyValue;
}

/** One message of a watch stream; see src/mvcc WatchResponse. */
export interface WatchStreamResponse {
  /** The watcher; -1 for a stream-wide progress notification. */
  readonly watchId: number;
  readonly events: readonly WatchStreamEvent[];
  readonly revision: number;
  /** Non-zero: the start revision was compacted; the watcher is done. */
  readonly compactRevision: number;
}

/** Why a watch could not be created. */
export type WatchCreateFailure = 'watch-id-exists' | 'empty-watcher-range' | 'stream-closed';

/** A stream of watchers; single consumer. See src/mvcc WatchStream for the full contract. */
export interface WatchStreamApi {
  /** Creates a watcher; `id` 0 lets the stream choose. */
  watch(
    id: number,
    key: Uint8Array,
    rangeEnd: Uint8Array | undefined,
    startRev: number,
    filters: readonly ('noPut' | 'noDelete')[],
    prevKv: boolean,
  ): { readonly ok: true; readonly id: number } | { readonly ok: false; readonly code: WatchCreateFailure };
  /** Cancels watcher `id`; false when there is none. */
  cancel(id: number): boolean;
  /** Queues a progress notification for watcher `id` if it is caught up. */
  requestProgress(id: number): void;
  /** Queues a progress notification for the whole stream once every watcher is caught up. */
  requestProgressAll(): boolean;
  /** The store's current revision. */
  rev(): number;
  /** The oldest queued response, or undefined. */
  take(): WatchStreamResponse | undefined;
  /** Called (inside a store write: only schedule work) when a response is queued into an empty queue. */
  onReady(listener: (() => void) | undefined): void;
  /** Cancels every watcher. */
  close(): void;
}

/** The Watch service of a member. */
export interface WatchApi {
  /** A new stream of watchers. */
  newWatchStream(): WatchStreamApi;
  /** A response header for revision `rev`, filled as the member fills headers. */
  watchHeader(rev: number): pb.ResponseHeader;
  /** Asks for the backlog of watchers that are behind to be worked on soon (after a create). */
  kickSync(): void;
}
