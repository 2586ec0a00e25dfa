/**
 * Helpers for the tests of the gRPC edge on our own HTTP/2 server: a one-member cluster served
 * by {@link createGrpcH2Server} on a loopback port (the way the client listener hands it
 * connections), grpc-js clients of etcd's services, and a raw HTTP/2 request for what no gRPC
 * client would send.
 */
import * as grpc from '@grpc/grpc-js';
import * as pb from '../api/gen/etcdserverpb.js';
import { rmSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { createServer, type Server } from 'node:net';
import { grpcServiceNames, grpcServices } from '../api/codec.js';
import type { EtcdServerApi } from '../server/server-api.js';
import { EtcdServer } from '../server/etcd-server.js';
import { quietLogger, tempDir, testConfig } from '../server/test-member.js';
import { createGrpcH2Server, type GrpcH2Server } from './grpc-h2-server.js';

/** A member behind the HTTP/2 gRPC edge. */
export interface TestEdge {
  readonly member: EtcdServer;
  readonly edge: GrpcH2Server;
  /** host:port of the edge. */
  readonly address: string;
  /** Stops listening, closes every connection, stops the member and removes its data dir. */
  close(): Promise<void>;
}

/** Options of {@link startTestEdge}. */
export interface TestEdgeOptions {
  /** Member flags (etcd's), e.g. `--max-request-bytes=4096`. */
  flags?: readonly string[];
  /** What the edge serves instead of the member itself (an instrumented view of it). */
  serve?: (member: EtcdServer) => EtcdServerApi;
  watchProgressNotifyIntervalMs?: number;
}

/** Starts a one-member cluster in a temporary data dir and its HTTP/2 gRPC edge on port 0. */
export async function startTestEdge(options: TestEdgeOptions = {}): Promise<TestEdge> {
  const logger = quietLogger();
  const dataDir = tempDir('etcd-ts-h2-edge-');
  const member = await EtcdServer.start(testConfig(dataDir, options.flags ?? []), logger);
  await member.readyNotify();
  const served = options.serve?.(member) ?? member;
  const edge = createGrpcH2Server(served, {
    logger,
    maxRequestBytes: member.limits.maxRequestBytes,
    watchProgressNotifyIntervalMs: options.watchProgressNotifyIntervalMs,
  });
  const listener: Server = createServer((socket) => edge.handleConnection(socket, Buffer.alloc(0)));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as { port: number }).port;
  return {
    member,
    edge,
    address: `127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      edge.close();
      await closed;
      await member.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A grpc-js client of one of etcd's services; methods are called by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ServiceClient = grpc.Client & Record<string, any>;

/** A grpc-js client of `service` at `address`. */
export function serviceClient(service: keyof typeof grpcServices, address: string, options: grpc.ClientOptions = {}): ServiceClient {
  const Ctor = grpc.makeGenericClientConstructor(grpcServices[service] as unknown as grpc.ServiceDefinition, grpcServiceNames[service]);
  return new Ctor(address, grpc.credentials.createInsecure(), options) as ServiceClient;
}

/** A unary call's outcome. */
export interface UnaryOutcome<Res> {
  res?: Res;
  err?: grpc.ServiceError;
}

/** Calls unary `method` of `client`; never rejects. */
export function unary<Res>(client: ServiceClient, method: string, req: unknown, md = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<UnaryOutcome<Res>> {
  return new Promise((resolve) => {
    (client[method] as (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void)(req, md, options, (err, res) =>
      resolve(err !== null ? { err } : { res: res as Res }),
    );
  });
}

/** A request's body as one uncompressed gRPC message (`flag` 1 claims compression). */
export function grpcMessage(body: Uint8Array, flag = 0): Buffer {
  const framed = Buffer.alloc(5 + body.length);
  framed[0] = flag;
  framed.writeUInt32BE(body.length, 1);
  framed.set(body, 5);
  return framed;
}

/** What a raw HTTP/2 request got back. */
export interface RawAnswer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
  /** RST_STREAM code the stream ended with (0: none). */
  rstCode: number;
}

/**
 * Sends one HTTP/2 request, on its own connection to `target` when it is an address, else on the
 * session given: `headers`, then `chunks` as DATA and END_STREAM (on the HEADERS frame when
 * `chunks` is empty and `endWithHeaders`, else on an empty DATA frame).
 */
export function rawRequest(target: string | ClientHttp2Session, headers: OutgoingHttpHeaders, chunks: readonly Buffer[], endWithHeaders = false): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = typeof target === 'string' ? connect(`http://${target}`) : target;
    if (typeof target === 'string') session.on('error', reject);
    const req = session.request(headers, { endStream: endWithHeaders && chunks.length === 0 });
    const answer: RawAnswer = { headers: {}, trailers: {}, body: Buffer.alloc(0), rstCode: 0 };
    const data: Buffer[] = [];
    // Copied without node's symbol keys (and with a prototype), for deepEqual.
    req.on('response', (h) => (answer.headers = Object.fromEntries(Object.entries(h))));
    req.on('trailers', (h) => (answer.trailers = Object.fromEntries(Object.entries(h))));
    req.on('data', (d: Buffer) => data.push(d));
    req.on('error', () => undefined); // a reset shows in rstCode
    req.on('close', () => {
      answer.rstCode = req.rstCode ?? 0;
      answer.body = Buffer.concat(data);
      if (typeof target === 'string') session.close();
      resolve(answer);
    });
    for (const c of chunks) req.write(c);
    if (!(endWithHeaders && chunks.length === 0)) req.end();
  });
}

/** The headers of a gRPC request for `path`, plus `extra`. */
export function grpcRequestHeaders(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra };
}

/** Resolves after `ms` milliseconds. */
/** A new lease of `ttlSeconds` granted through `lease` (a Lease service client): its ID. */
export async function grantLease(lease: ServiceClient, ttlSeconds = 60): Promise<bigint> {
  const granted = await unary<pb.LeaseGrantResponse>(lease, 'LeaseGrant', pb.createLeaseGrantRequest({ TTL: ttlSeconds }));
  return granted.res!.ID;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds; rejects after `ms`. */
export async function eventually(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(10);
  }
}
