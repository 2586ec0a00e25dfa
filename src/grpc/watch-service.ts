/**
 * etcd's Watch service (v3rpc's serverWatchStream) on a grpc-js bidirectional stream: one member
 * watch stream per call, many watchers on it. Create, cancel and progress requests come in;
 * created/canceled answers and events go out in order, one write at a time, pausing while
 * grpc-js's buffer is full ('drain'), so a slow client leaves its watchers behind in the store
 * (bounded) instead of growing memory here.
 */
import type { ServerDuplexStream, handleBidiStreamingCall } from '@grpc/grpc-js';
import type * as pb from '../api/gen/etcdserverpb.js';
import { WatchCreateRequest_FilterType } from '../api/gen/etcdserverpb.js';
import * as mvccpb from '../api/gen/mvccpb.js';
import type { Logger } from '../pkg/logger.js';
import type { AuthApi } from '../server/auth-api.js';
import type { WatchApi, WatchCreateFailure, WatchStreamApi, WatchStreamEvent, WatchStreamResponse } from '../server/watch-api.js';
import { UndecodableRequest } from './request-decoding.js';
import { varintLen } from '../pkg/varint.js';

/** etcd's progress notification interval for watchers created with progress_notify (10 minutes). */
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/** Options of the Watch service. */
export interface WatchServiceOptions {
  /** --max-request-bytes: responses of fragmenting watchers are split below it. */
  readonly maxRequestBytes: number;
  /** Progress notification interval (tests shorten it); default 10 minutes. */
  readonly progressNotifyIntervalMs?: number;
  /** Whether the call may watch a range (read permission while auth is enabled); absent: always. */
  readonly auth?: Pick<AuthApi, 'isWatchPermitted'>;
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

function toPbEvent(ev: WatchStreamEvent): mvccpb.Event {
  const out: mvccpb.Event = { type: ev.type === 'put' ? mvccpb.Event_EventType.PUT : mvccpb.Event_EventType.DELETE, kv: ev.kv };
  if (ev.prevKv !== undefined) out.prevKv = ev.prevKv;
  return out;
}

/**
 * The last events array converted, and its conversion: the store hands every watcher of a key the
 * same array for one revision (arrays it never changes), so a fan-out to many watchers converts
 * the events once instead of once per watcher.
 */
let lastStoreEvents: readonly WatchStreamEvent[] | undefined;
let lastPbEvents: mvccpb.Event[] = [];

function pbEventsOf(events: readonly WatchStreamEvent[]): mvccpb.Event[] {
  if (events !== lastStoreEvents) {
    lastPbEvents = events.map(toPbEvent);
    lastStoreEvents = events;
  }
  return lastPbEvents;
}

/** The encoded size of `ev` as an element of WatchResponse.events (tag, length, body). */
function eventFieldSize(ev: mvccpb.Event): number {
  const body = mvccpb.Event.encode(ev).length;
  return 1 + varintLen(body) + body;
}

/** One Watch call. */
class WatchSession {
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
    private readonly call: ServerDuplexStream<pb.WatchRequest | UndecodableRequest, pb.WatchResponse>,
    private readonly api: WatchApi,
    private readonly options: WatchServiceOptions,
    private readonly logger: Logger,
  ) {
    this.stream = api.newWatchStream();
    this.stream.onReady(() => this.scheduleFlush());
    call.on('data', (req: pb.WatchRequest | UndecodableRequest) => this.onRequest(req));
    call.on('drain', () => {
      this.paused = false;
      this.flush();
    });
    const end = (): void => this.close();
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    call.on('finish', end);
  }

  private onRequest(req: pb.WatchRequest | UndecodableRequest): void {
    if (this.closed) return;
    if (req instanceof UndecodableRequest) {
      this.close();
      this.call.emit('error', req.status);
      return;
    }
    if (req.createRequest !== undefined) this.create(req.createRequest);
    else if (req.cancelRequest !== undefined) this.cancel(req.cancelRequest.watchId);
    else if (req.progressRequest !== undefined) this.stream.requestProgressAll();
    // An empty request is ignored, as etcd ignores unknown ones.
    this.scheduleFlush();
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
    if (this.options.auth !== undefined && !this.options.auth.isWatchPermitted(this.call.metadata, key, c.rangeEnd)) {
      this.ctrl.push({ header: this.api.watchHeader(rev), watchId: INVALID_WATCH_ID, created: true, canceled: true, compactRevision: 0, cancelReason: PERMISSION_DENIED_REASON, fragment: false, events: [] });
      return;
    }
    const out = this.stream.watch(c.watchId, key, rangeEnd, c.startRevision, filters, c.prevKv);
    const resp: pb.WatchResponse = {
      header: this.api.watchHeader(rev),
      watchId: out.ok ? out.id : INVALID_WATCH_ID,
      created: true,
      canceled: !out.ok,
      compactRevision: 0,
      cancelReason: out.ok ? '' : CREATE_FAILURE_TEXT[out.code],
      fragment: false,
      events: [],
    };
    if (out.ok) {
      if (c.progressNotify) {
        this.progress.set(out.id, true);
        this.startProgressTimer();
      }
      if (c.fragment) this.fragment.add(out.id);
      // A watcher starting in the past is caught up by the store's sync: ask for it soon.
      if (c.startRevision > 0 && c.startRevision <= rev) this.api.kickSync();
    }
    this.ctrl.push(resp);
  }

  private cancel(id: number): void {
    if (!this.stream.cancel(id)) return;
    this.progress.delete(id);
    this.fragment.delete(id);
    this.ctrl.push({
      header: this.api.watchHeader(this.stream.rev()),
      watchId: id,
      created: false,
      canceled: true,
      compactRevision: 0,
      cancelReason: '',
      fragment: false,
      events: [],
    });
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
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes queued answers, then the store's responses, until grpc-js asks to wait. */
  private flush(): void {
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
  }

  private sendStoreResponse(r: WatchStreamResponse): void {
    const events = r.events.length === 0 ? [] : pbEventsOf(r.events);
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
    const sizes = resp.events.map(eventFieldSize);
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
    // Past the buffer grpc-js keeps what it is given; stop taking until it drains.
    if (!this.call.write(resp)) this.paused = true;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.stream.onReady(undefined);
    this.stream.close();
    this.ctrl.length = 0;
    if (this.logger.enabled('debug')) this.logger.debug('watch stream closed');
  }
}

/** The Watch handler over `api`. */
export function watchHandler(
  api: WatchApi,
  options: WatchServiceOptions,
  logger: Logger,
): handleBidiStreamingCall<pb.WatchRequest | UndecodableRequest, pb.WatchResponse> {
  return (call) => {
    new WatchSession(call, api, options, logger);
  };
}
