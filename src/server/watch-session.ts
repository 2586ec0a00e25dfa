/**
 * One client watch stream (etcd's v3rpc serverWatchStream) without its transport: create, cancel
 * and progress requests come in; created/canceled answers and the store's events go out in order,
 * one send at a time, pausing while the transport's buffer is full, so a slow client leaves its
 * watchers behind in the store (bounded) instead of growing memory here. The gRPC Watch call and
 * the JSON gateway's POST /v3/watch are thin adapters over it.
 */
import type * as pb from '../api/gen/etcdserverpb.js';
import { WatchCreateRequest_FilterType } from '../api/gen/etcdserverpb.js';
import * as mvccpb from '../api/gen/mvccpb.js';
import type { AuthApi, RequestMetadata } from './auth-api.js';
import type { WatchApi, WatchCreateFailure, WatchStreamApi, WatchStreamEvent, WatchStreamResponse } from './watch-api.js';
import { onMicrotask } from '../pkg/microtask.js';

/** etcd's progress notification interval for watchers created with progress_notify (10 minutes). */
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/** Options of a watch session. */
export interface WatchSessionOptions {
  /** --max-request-bytes: responses of fragmenting watchers are split below it. */
  readonly maxRequestBytes: number;
  /** Progress notification interval (tests shorten it); default 10 minutes. */
  readonly progressNotifyIntervalMs?: number;
  /** Whether the call may watch a range (read permission while auth is enabled); absent: always. */
  readonly auth?: Pick<AuthApi, 'isWatchPermitted'>;
}

/** What a transport gives the session: where responses go and who is asking. */
export interface WatchSink {
  /**
   * Sends one response; false when the transport's buffer is full. The session then sends
   * nothing more until the transport calls {@link WatchSession.drained}.
   */
  send(resp: pb.WatchResponse): boolean;
  /**
   * Optional: responses sent until `uncork` may leave together (one write to the transport
   * instead of one each; a watch stream often has many responses ready at once).
   */
  cork?(): void;
  /** Ends what `cork` began and writes what was held. */
  uncork?(): void;
  /** The call's credentials, checked for read permission on every create while auth is enabled. */
  readonly metadata: RequestMetadata | undefined;
}

/** How a transport converts store events and counts their size when fragmenting. */
export interface WatchEventEncoding {
  /** The events of one store response (never empty) as wire events; the result is not changed. */
  toPbEvents(events: readonly WatchStreamEvent[]): mvccpb.Event[];
  /** The bytes one event counts for against maxRequestBytes. */
  fragmentSize(ev: mvccpb.Event): number;
}

/** The cancel reason of a watcher refused for want of read permission: the gRPC error's Go text, as etcd sends it. */
const PERMISSION_DENIED_REASON = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

/** etcd's mvcc error texts, sent as a failed create's cancel_reason. */
const CREATE_FAILURE_TEXT: Record<WatchCreateFailure, string> = {
  'watch-id-exists': 'mvcc: duplicate watch ID provided on the WatchStream',
  'empty-watcher-range': 'mvcc: watcher range is empty',
  'stream-closed': 'mvcc: watcher does not exist',
};

/** The watch ID of a response for the whole stream (etcd's InvalidWatchID). */
const INVALID_WATCH_ID = -1;

/** One store event as a wire event. */
export function toPbEvent(ev: WatchStreamEvent): mvccpb.Event {
  const out: mvccpb.Event = { type: ev.type === 'put' ? mvccpb.Event_EventType.PUT : mvccpb.Event_EventType.DELETE, kv: ev.kv };
  if (ev.prevKv !== undefined) out.prevKv = ev.prevKv;
  return out;
}

/**
 * The watchers of one client stream over a member watch stream. The transport passes requests to
 * {@link request}, calls {@link drained} when its buffer has room again and {@link close} when the
 * call ends; nothing is sent after close.
 */
export class WatchSession {
  private readonly stream: WatchStreamApi;
  /** Answers to create/cancel requests, sent before anything queued in the store after them. */
  private readonly ctrl: pb.WatchResponse[] = [];
  /** Watchers that asked for progress notifications: true when nothing was sent since the last tick. */
  private readonly progress = new Map<number, boolean>();
  private readonly fragment = new Set<number>();
  private progressTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private paused = false;
  private closed = false;

  constructor(
    private readonly api: WatchApi,
    private readonly sink: WatchSink,
    private readonly options: WatchSessionOptions,
    private readonly encoding: WatchEventEncoding,
  ) {
    this.stream = api.newWatchStream();
    this.stream.onReady(() => this.scheduleFlush());
  }

  /** Whether {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Handles one request of the client; answers go out soon after, never inside this call. */
  request(req: pb.WatchRequest): void {
    if (this.closed) return;
    if (req.createRequest !== undefined) this.create(req.createRequest);
    else if (req.cancelRequest !== undefined) this.cancel(req.cancelRequest.watchId);
    else if (req.progressRequest !== undefined) this.stream.requestProgressAll();
    // An empty request is ignored, as etcd ignores unknown ones.
    this.scheduleFlush();
  }

  /** The transport can take more: resume sending. */
  drained(): void {
    this.paused = false;
    this.flush();
  }

  /** Cancels every watcher and stops sending; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.stream.onReady(undefined);
    this.stream.close();
    this.ctrl.length = 0;
  }

  private create(c: pb.WatchCreateRequest): void {
    // etcd's defaults: no key means "\0", an empty range end means a single key.
    const key = c.key.length === 0 ? new Uint8Array([0]) : c.key;
    const rangeEnd = c.rangeEnd.length === 0 ? undefined : c.rangeEnd;
    const filters: ('noPut' | 'noDelete')[] = [];
    for (const f of c.filters) {
      if (f === WatchCreateRequest_FilterType.NOPUT) filters.push('noPut');
      else if (f === WatchCreateRequest_FilterType.NODELETE) filters.push('noDelete');
    }
    const rev = this.stream.rev();
    const auth = this.options.auth;
    if (auth !== undefined && !auth.isWatchPermitted(this.sink.metadata, key, c.rangeEnd)) {
      this.ctrl.push({ header: this.api.watchHeader(rev), watchId: INVALID_WATCH_ID, created: true, canceled: true, compactRevision: 0, cancelReason: PERMISSION_DENIED_REASON, fragment: false, events: [] });
      return;
    }
    const out = this.stream.watch(c.watchId, key, rangeEnd, c.startRevision, filters, c.prevKv);
    this.ctrl.push({
      header: this.api.watchHeader(rev),
      watchId: out.ok ? out.id : INVALID_WATCH_ID,
      created: true,
      canceled: !out.ok,
      compactRevision: 0,
      cancelReason: out.ok ? '' : CREATE_FAILURE_TEXT[out.code],
      fragment: false,
      events: [],
    });
    if (!out.ok) return;
    if (c.progressNotify) {
      this.progress.set(out.id, true);
      this.startProgressTimer();
    }
    if (c.fragment) this.fragment.add(out.id);
    // A watcher starting in the past is caught up by the store's sync: ask for it soon.
    if (c.startRevision > 0 && c.startRevision <= rev) this.api.kickSync();
  }

  private cancel(id: number): void {
    if (!this.stream.cancel(id)) return;
    this.progress.delete(id);
    this.fragment.delete(id);
    this.ctrl.push({ header: this.api.watchHeader(this.stream.rev()), watchId: id, created: false, canceled: true, compactRevision: 0, cancelReason: '', fragment: false, events: [] });
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return;
    const ms = this.options.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS;
    this.progressTimer = setInterval(() => this.progressTick(), ms);
    this.progressTimer.unref();
  }

  /** etcd's progress ticker: a notification for every progress watcher that got nothing since the last tick. */
  private progressTick(): void {
    if (this.closed) return;
    for (const [id, idle] of this.progress) {
      if (idle) this.stream.requestProgress(id);
      this.progress.set(id, true);
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    // Never inside the store's write or sync (the stream's ready listener runs there).
    onMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Sends queued answers, then the store's responses, until the transport asks to wait. */
  private flush(): void {
    this.sink.cork?.();
    try {
      while (!this.paused && !this.closed) {
        const c = this.ctrl.shift();
        if (c !== undefined) {
          this.send(c);
          continue;
        }
        const r = this.stream.take();
        if (r === undefined) return;
        this.sendStoreResponse(r);
      }
    } finally {
      this.sink.uncork?.();
    }
  }

  private sendStoreResponse(r: WatchStreamResponse): void {
    const events = r.events.length === 0 ? [] : this.encoding.toPbEvents(r.events);
    const compacted = r.compactRevision !== 0;
    const resp: pb.WatchResponse = {
      header: this.api.watchHeader(r.revision),
      watchId: r.watchId,
      created: false,
      canceled: compacted,
      compactRevision: r.compactRevision,
      cancelReason: '',
      fragment: false,
      events,
    };
    if (events.length > 0 && this.progress.has(r.watchId)) this.progress.set(r.watchId, false);
    if (compacted) {
      // The store sends nothing more to it; free its ID as etcd's client expects it gone.
      this.stream.cancel(r.watchId);
      this.progress.delete(r.watchId);
      this.fragment.delete(r.watchId);
    }
    if (this.fragment.has(r.watchId) && events.length > 1) this.sendFragments(resp);
    else this.send(resp);
  }

  /**
   * etcd's sendFragments: when the events exceed the max request size, several responses each
   * below it (but at least one event), all but the last marked `fragment`.
   */
  private sendFragments(resp: pb.WatchResponse): void {
    const limit = this.options.maxRequestBytes;
    const sizes = resp.events.map((ev) => this.encoding.fragmentSize(ev));
    let total = 0;
    for (const s of sizes) total += s;
    if (total < limit) {
      this.send(resp);
      return;
    }
    let i = 0;
    while (i < resp.events.length) {
      const start = i;
      let size = sizes[i++]!;
      while (i < resp.events.length && size + sizes[i]! < limit) size += sizes[i++]!;
      this.send({ ...resp, events: resp.events.slice(start, i), fragment: i < resp.events.length });
    }
  }

  private send(resp: pb.WatchResponse): void {
    if (this.closed) return;
    // Past its buffer the transport keeps what it is given; stop taking until it drains.
    if (!this.sink.send(resp)) this.paused = true;
  }
}
