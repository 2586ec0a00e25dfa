/**
 * POST /v3/watch on the JSON gateway: etcd's Watch stream (v3rpc serverWatchStream) with JSON
 * in and out. The body is a stream of WatchRequest objects (create, cancel, progress); every
 * WatchResponse is written as its own `{"result":...}` line. As in etcd, the response stays open
 * after the body ends (the watchers keep watching) until the client goes away; see
 * gateway-stream.ts for how bad requests are answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as pb from '../../api/gen/etcdserverpb.js';
import { WatchCreateRequest_FilterType } from '../../api/gen/etcdserverpb.js';
import * as mvccpb from '../../api/gen/mvccpb.js';
import type { AuthApi, RequestMetadata } from '../../server/auth-api.js';
import type { WatchApi, WatchCreateFailure, WatchStreamApi, WatchStreamEvent, WatchStreamResponse } from '../../server/watch-api.js';
import { GatewayStreamWriter, readGatewayStream } from './gateway-stream.js';
import { messageToJson } from './json-mapper.js';

/** The path etcd's gateway serves Watch on. */
export const WATCH_PATH = '/v3/watch';

/** etcd's progress notification interval for watchers created with progress_notify. */
const PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/** The watch ID of a response for the whole stream (etcd's InvalidWatchID). */
const INVALID_WATCH_ID = -1;

/** etcd's mvcc error texts, sent as a failed create's cancel_reason. */
const CREATE_FAILURE_TEXT: Record<WatchCreateFailure, string> = {
  'watch-id-exists': 'mvcc: duplicate watch ID provided on the WatchStream',
  'empty-watcher-range': 'mvcc: watcher range is empty',
  'stream-closed': 'mvcc: watcher does not exist',
};

/** Options of {@link serveWatch}. */
export interface GatewayWatchOptions {
  /** --max-request-bytes: fragmenting watchers split their events below it. */
  readonly maxRequestBytes: number;
  /** The largest request text accepted. */
  readonly maxValueBytes: number;
  /** Progress notification interval (tests shorten it); default 10 minutes. */
  readonly progressNotifyIntervalMs?: number;
  /** Read permission checks while auth is enabled, with the request's token; absent: none. */
  readonly auth?: Pick<AuthApi, 'isWatchPermitted'>;
  readonly metadata?: RequestMetadata;
}

/** The cancel reason of a watcher refused for want of read permission (the gRPC error's Go text, as etcd sends it). */
const PERMISSION_DENIED_REASON = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

function toPbEvent(ev: WatchStreamEvent): mvccpb.Event {
  const out: mvccpb.Event = { type: ev.type === 'put' ? mvccpb.Event_EventType.PUT : mvccpb.Event_EventType.DELETE, kv: ev.kv };
  if (ev.prevKv !== undefined) out.prevKv = ev.prevKv;
  return out;
}

/** One watch call over HTTP. */
class GatewayWatchSession {
  private readonly stream: WatchStreamApi;
  private readonly out: GatewayStreamWriter;
  /** Answers to create/cancel requests, written before what the store queues after them. */
  private readonly ctrl: pb.WatchResponse[] = [];
  /** Watchers with progress notifications: true when nothing was sent to it since the last tick. */
  private readonly progress = new Map<number, boolean>();
  private readonly fragment = new Set<number>();
  private progressTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private paused = false;
  private closed = false;

  constructor(
    private readonly api: WatchApi,
    res: ServerResponse,
    private readonly options: GatewayWatchOptions,
  ) {
    this.out = new GatewayStreamWriter(res);
    this.stream = api.newWatchStream();
    this.stream.onReady(() => this.scheduleFlush());
    res.on('drain', () => {
      this.paused = false;
      this.flush();
    });
    res.on('close', () => this.close());
  }

  request(req: pb.WatchRequest): void {
    if (this.closed) return;
    if (req.createRequest !== undefined) this.create(req.createRequest);
    else if (req.cancelRequest !== undefined) this.cancel(req.cancelRequest.watchId);
    else if (req.progressRequest !== undefined) this.stream.requestProgressAll();
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
    const auth = this.options.auth;
    if (auth !== undefined && !auth.isWatchPermitted(this.options.metadata, key, c.rangeEnd)) {
      this.ctrl.push({ header: this.api.watchHeader(rev), watchId: INVALID_WATCH_ID, created: true, canceled: true, compactRevision: 0, cancelReason: PERMISSION_DENIED_REASON, fragment: false, events: [] });
      return;
    }
    const r = this.stream.watch(c.watchId, key, rangeEnd, c.startRevision, filters, c.prevKv);
    this.ctrl.push({
      header: this.api.watchHeader(rev),
      watchId: r.ok ? r.id : INVALID_WATCH_ID,
      created: true,
      canceled: !r.ok,
      compactRevision: 0,
      cancelReason: r.ok ? '' : CREATE_FAILURE_TEXT[r.code],
      fragment: false,
      events: [],
    });
    if (!r.ok) return;
    if (c.progressNotify) {
      this.progress.set(r.id, true);
      this.progressTimer ??= setInterval(() => this.progressTick(), this.options.progressNotifyIntervalMs ?? PROGRESS_NOTIFY_INTERVAL_MS);
      this.progressTimer.unref();
    }
    if (c.fragment) this.fragment.add(r.id);
    // A watcher starting in the past is caught up by the store's sync: ask for it soon.
    if (c.startRevision > 0 && c.startRevision <= rev) this.api.kickSync();
  }

  private cancel(id: number): void {
    if (!this.stream.cancel(id)) return;
    this.progress.delete(id);
    this.fragment.delete(id);
    this.ctrl.push({ header: this.api.watchHeader(this.stream.rev()), watchId: id, created: false, canceled: true, compactRevision: 0, cancelReason: '', fragment: false, events: [] });
  }

  /** etcd's progress ticker: a notification for every progress watcher idle since the last tick. */
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
    // Never inside the store's write (the stream's ready listener runs there).
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

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
    const compacted = r.compactRevision !== 0;
    const resp: pb.WatchResponse = {
      header: this.api.watchHeader(r.revision),
      watchId: r.watchId,
      created: false,
      canceled: compacted,
      compactRevision: r.compactRevision,
      cancelReason: '',
      fragment: false,
      events: r.events.map(toPbEvent),
    };
    if (resp.events.length > 0 && this.progress.has(r.watchId)) this.progress.set(r.watchId, false);
    if (compacted) {
      this.stream.cancel(r.watchId);
      this.progress.delete(r.watchId);
      this.fragment.delete(r.watchId);
    }
    if (this.fragment.has(r.watchId) && resp.events.length > 1) this.sendFragments(resp);
    else this.send(resp);
  }

  /** etcd's sendFragments: responses each below the request limit, all but the last marked. */
  private sendFragments(resp: pb.WatchResponse): void {
    const limit = this.options.maxRequestBytes;
    const sizes = resp.events.map((e) => mvccpb.Event.encode(e).length + 8);
    if (sizes.reduce((a, b) => a + b, 0) < limit) {
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
    if (!this.out.result(messageToJson('etcdserverpb.WatchResponse', resp))) this.paused = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.stream.onReady(undefined);
    this.stream.close();
    this.ctrl.length = 0;
  }
}

/**
 * Serves one POST /v3/watch. The caller answers Unimplemented when the member has no watch
 * service. The session lives until the client closes the connection.
 */
export function serveWatch(api: WatchApi, req: IncomingMessage, res: ServerResponse, options: GatewayWatchOptions): void {
  let session: GatewayWatchSession | undefined;
  readGatewayStream<pb.WatchRequest>(req, res, 'etcdserverpb.WatchRequest', options.maxValueBytes, {
    request: (r) => {
      session ??= new GatewayWatchSession(api, res, options);
      session.request(r);
    },
    // etcd's watch stream outlives the end of its requests; a body that carried none leaves the
    // client waiting with no answer at all, as etcd does.
    end: () => undefined,
  });
}
