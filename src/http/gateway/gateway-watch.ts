/**
 * POST /v3/watch on the JSON gateway: etcd's Watch stream (v3rpc serverWatchStream) with JSON
 * in and out. The body is a stream of WatchRequest objects (create, cancel, progress); every
 * WatchResponse is written as its own `{"result":...}` line. As in etcd, the response stays open
 * after the body ends (the watchers keep watching) until the client goes away; see
 * gateway-stream.ts for how bad requests are answered. The stream logic is
 * src/server/watch-session.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as pb from '../../api/gen/etcdserverpb.js';
import * as mvccpb from '../../api/gen/mvccpb.js';
import type { RequestMetadata } from '../../server/auth-api.js';
import type { WatchApi } from '../../server/watch-api.js';
import { toPbEvent, WatchSession, type WatchEventEncoding, type WatchSessionOptions, type WatchSink } from '../../server/watch-session.js';
import { GatewayStreamWriter, readGatewayStream } from './gateway-stream.js';
import { messageToJson } from './json-mapper.js';

/** The path etcd's gateway serves Watch on. */
export const WATCH_PATH = '/v3/watch';

/** Options of {@link serveWatch}. */
export interface GatewayWatchOptions extends WatchSessionOptions {
  /** The largest request text accepted. */
  readonly maxValueBytes: number;
  /** The request's token, for the read permission checks while auth is enabled. */
  readonly metadata?: RequestMetadata;
}

/** Events converted afresh per response; fragments counted as the encoded event plus 8 bytes. */
const GATEWAY_EVENT_ENCODING: WatchEventEncoding = {
  toPbEvents: (events) => events.map(toPbEvent),
  fragmentSize: (ev) => mvccpb.Event.encode(ev).length + 8,
};

/** One watch call over HTTP: a watch session writing JSON lines. */
class GatewayWatchSession implements WatchSink {
  readonly metadata: RequestMetadata | undefined;
  private readonly out: GatewayStreamWriter;
  private readonly core: WatchSession;

  constructor(api: WatchApi, res: ServerResponse, options: GatewayWatchOptions) {
    this.metadata = options.metadata;
    this.out = new GatewayStreamWriter(res);
    this.core = new WatchSession(api, this, options, GATEWAY_EVENT_ENCODING);
    res.on('drain', () => this.core.drained());
    res.on('close', () => this.core.close());
  }

  request(req: pb.WatchRequest): void {
    this.core.request(req);
  }

  send(resp: pb.WatchResponse): boolean {
    return this.out.result(messageToJson('etcdserverpb.WatchResponse', resp));
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
