/**
 * The waiting half of etcd's concurrency recipes (clientv3/concurrency key.go), run in-process
 * over the member's KV and Watch APIs: a cursor over one watcher's responses, and waitDeletes,
 * which resolves once every key under a prefix created at or before a revision is gone. The Lock
 * and Election services queue their callers this way: each waiter watches only the key created
 * just before its own, so a release wakes one waiter, not all of them.
 */
import * as pb from '../api/gen/etcdserverpb.js';
import { rpcError } from '../api/rpctypes/index.js';
import type { KvApi } from '../server/server-api.js';
import type { WatchApi, WatchStreamApi, WatchStreamResponse } from '../server/watch-api.js';

/** The error a wait ends with when its caller went away (Go's context.Canceled text). */
export class WaitCancelled extends Error {
  constructor() {
    super('context canceled');
  }
}

/** The end of the range holding every key that starts with `prefix` (clientv3's GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff (or the prefix is empty): the range runs to the end of the keyspace.
  return new Uint8Array([0]);
}

/**
 * One watcher on its own watch stream, read one response at a time. Single consumer; `close`
 * must be called when done (it cancels the watcher).
 */
export class WatchCursor {
  private readonly stream: WatchStreamApi;
  private wake: (() => void) | undefined;
  private closed = false;

  /** Watches [key, rangeEnd) (rangeEnd undefined: the key alone) from `startRev`. */
  constructor(api: WatchApi, key: Uint8Array, rangeEnd: Uint8Array | undefined, startRev: number) {
    this.stream = api.newWatchStream();
    const created = this.stream.watch(0, key, rangeEnd, startRev, [], false);
    if (!created.ok) throw new Error(`watch: ${created.code}`);
    // onReady runs inside a store write: only note that a response is there.
    this.stream.onReady(() => {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    });
    api.kickSync();
  }

  /** The next response; rejects with {@link WaitCancelled} once `signal` aborts. */
  async next(signal: AbortSignal): Promise<WatchStreamResponse> {
    for (;;) {
      if (signal.aborted || this.closed) throw new WaitCancelled();
      const resp = this.stream.take();
      if (resp !== undefined) return resp;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done);
      });
    }
  }

  /** Cancels the watcher and frees its stream. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.onReady(undefined);
    this.stream.close();
    this.wake?.();
  }
}

/**
 * Resolves once `key` is deleted at or after `rev`. A compacted start revision ends the wait
 * with etcd's compacted error, as clientv3's watch channel closes with it.
 */
export async function waitDelete(watch: WatchApi, key: Uint8Array, rev: number, signal: AbortSignal): Promise<void> {
  const cursor = new WatchCursor(watch, key, undefined, rev);
  try {
    for (;;) {
      const resp = await cursor.next(signal);
      if (resp.compactRevision !== 0) throw rpcError('compacted');
      for (const ev of resp.events) if (ev.type === 'delete') return;
    }
  } finally {
    cursor.close();
  }
}

/**
 * Waits until no key under `prefix` has a create revision of at most `maxCreateRev`, newest
 * first (concurrency's waitDeletes); resolves with the header of the read that found none.
 */
export async function waitDeletes(kv: KvApi, watch: WatchApi, prefix: Uint8Array, maxCreateRev: number, signal: AbortSignal): Promise<pb.ResponseHeader | undefined> {
  const req = pb.createRangeRequest({
    key: prefix,
    rangeEnd: prefixRangeEnd(prefix),
    limit: 1,
    sortOrder: pb.RangeRequest_SortOrder.DESCEND,
    sortTarget: pb.RangeRequest_SortTarget.CREATE,
    maxCreateRevision: maxCreateRev,
  });
  for (;;) {
    if (signal.aborted) throw new WaitCancelled();
    const resp = await kv.range(req);
    const last = resp.kvs[0];
    if (last === undefined) return resp.header;
    await waitDelete(watch, last.key, resp.header!.revision, signal);
  }
}
