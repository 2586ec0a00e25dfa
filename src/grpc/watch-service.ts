/**
 * etcd's Watch service (v3rpc's serverWatchStream) on a grpc-js bidirectional stream (or our own
 * HTTP/2 server's H2ServerCall, which has the same shape): one member watch stream per call, many
 * watchers on it. The stream logic is src/server/watch-session.ts; this file connects it to the
 * call: requests from 'data', responses through `write` with grpc-js's back-pressure ('drain').
 */
import type { ServerDuplexStream, handleBidiStreamingCall } from '@grpc/grpc-js';
import type * as pb from '../api/gen/etcdserverpb.js';
import * as mvccpb from '../api/gen/mvccpb.js';
import type { Logger } from '../pkg/logger.js';
import type { RequestMetadata } from '../server/auth-api.js';
import type { WatchApi, WatchStreamEvent } from '../server/watch-api.js';
import { toPbEvent, WatchSession as WatchSessionCore, type WatchEventEncoding, type WatchSessionOptions, type WatchSink } from '../server/watch-session.js';
import { UndecodableRequest } from './request-decoding.js';
import { varintLen } from '../pkg/varint.js';

export { DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS } from '../server/watch-session.js';

/** Options of the Watch service: those of every watch session. */
export type WatchServiceOptions = WatchSessionOptions;

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

/** Events converted through the fan-out cache and measured exactly as encoded. */
const GRPC_EVENT_ENCODING: WatchEventEncoding = { toPbEvents: pbEventsOf, fragmentSize: eventFieldSize };

/** One Watch call. */
class WatchSession implements WatchSink {
  private readonly core: WatchSessionCore;

  constructor(
    private readonly call: ServerDuplexStream<pb.WatchRequest | UndecodableRequest, pb.WatchResponse>,
    api: WatchApi,
    options: WatchServiceOptions,
    private readonly logger: Logger,
  ) {
    this.core = new WatchSessionCore(api, this, options, GRPC_EVENT_ENCODING);
    call.on('data', (req: pb.WatchRequest | UndecodableRequest) => this.onRequest(req));
    call.on('drain', () => this.core.drained());
    const end = (): void => this.close();
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    call.on('finish', end);
  }

  get metadata(): RequestMetadata {
    return this.call.metadata;
  }

  send(resp: pb.WatchResponse): boolean {
    return this.call.write(resp);
  }

  cork(): void {
    this.call.cork();
  }

  uncork(): void {
    this.call.uncork();
  }

  private onRequest(req: pb.WatchRequest | UndecodableRequest): void {
    if (!(req instanceof UndecodableRequest)) {
      this.core.request(req);
      return;
    }
    if (this.core.isClosed) return;
    this.close();
    this.call.emit('error', req.status);
  }

  private close(): void {
    if (this.core.isClosed) return;
    this.core.close();
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
