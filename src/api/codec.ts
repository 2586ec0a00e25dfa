/**
 * gRPC glue for the generated codecs. Every generated message type `X` (src/api/gen/<pkg>.ts) is
 * both an interface and a codec value with `X.encode(obj): Uint8Array` and
 * `X.decode(bytes): X`; this module turns the generated service table (gen/services.ts) into the
 * service definition objects grpc-js takes, without importing grpc-js: the types below are
 * structural copies of grpc-js's MethodDefinition, accepted by `Server.addService(def, impl)` and
 * `makeGenericClientConstructor(def, serviceName)`.
 */
import type { MethodDescriptor, ServiceDescriptor } from './gen/runtime.js';
import {
  AuthService,
  ClusterService,
  ElectionService,
  KVService,
  LeaseService,
  LockService,
  MaintenanceService,
  WatchService,
} from './gen/services.js';

export type { MessageCodec, MethodDescriptor, ServiceDescriptor } from './gen/runtime.js';

/** Bytes before each gRPC message on the wire: compressed flag and 32-bit big-endian length. */
export const GRPC_MESSAGE_PREFIX_BYTES = 5;

/**
 * Fills the first GRPC_MESSAGE_PREFIX_BYTES of `framed`, whose message follows them: not
 * compressed, and the message's length. Returns `framed`.
 */
export function writeGrpcMessagePrefix(framed: Buffer): Buffer {
  framed[0] = 0;
  framed.writeUInt32BE(framed.length - GRPC_MESSAGE_PREFIX_BYTES, 1);
  return framed;
}

/** One method as grpc-js describes it (MethodDefinition<Req, Res>). */
export interface GrpcMethodDefinition<Req, Res> {
  /** Full path, e.g. '/etcdserverpb.KV/Range'. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: Req) => Buffer;
  requestDeserialize: (bytes: Buffer) => Req;
  responseSerialize: (value: Res) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
  /**
   * The response as one uncompressed gRPC length-prefixed message (flag byte, 32-bit length,
   * message), encoded straight into one buffer. Not grpc-js's: the server's fast path uses it.
   */
  responseFramed?: (value: Res) => Buffer;
  /** lowerCamel alias grpc-js clients expose beside the proto name. */
  originalName: string;
}

/** A service as grpc-js describes it: method definitions by proto method name. */
export type GrpcServiceDefinition<M> = {
  readonly [K in keyof M]: M[K] extends MethodDescriptor<infer Req, infer Res> ? GrpcMethodDefinition<Req, Res> : never;
};

/** `bytes` as a Buffer over the same memory (grpc-js wants Buffers; the codecs already return them on Node). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The grpc-js definition of a generated service. */
export function grpcServiceDefinition<M extends { [K in keyof M]: MethodDescriptor<unknown, unknown> }>(
  service: ServiceDescriptor<M>,
): GrpcServiceDefinition<M> {
  const out: Record<string, GrpcMethodDefinition<unknown, unknown>> = {};
  for (const [key, method] of Object.entries<MethodDescriptor<unknown, unknown>>(service.methods)) {
    const req = method.requestType;
    const res = method.responseType;
    out[key] = {
      path: method.path,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (value) => toBuffer(req.encode(value)),
      requestDeserialize: (bytes) => req.decode(bytes),
      responseSerialize: (value) => toBuffer(res.encode(value)),
      responseDeserialize: (bytes) => res.decode(bytes),
      responseFramed: (value) => writeGrpcMessagePrefix(res.encodeAfter(value, GRPC_MESSAGE_PREFIX_BYTES)),
      originalName: method.originalName,
    };
  }
  return out as GrpcServiceDefinition<M>;
}

/** grpc-js definitions of every service etcd 3.4 serves, by short service name. */
export const grpcServices = {
  KV: grpcServiceDefinition(KVService),
  Watch: grpcServiceDefinition(WatchService),
  Lease: grpcServiceDefinition(LeaseService),
  Cluster: grpcServiceDefinition(ClusterService),
  Maintenance: grpcServiceDefinition(MaintenanceService),
  Auth: grpcServiceDefinition(AuthService),
  Lock: grpcServiceDefinition(LockService),
  Election: grpcServiceDefinition(ElectionService),
} as const;

/** Full gRPC service names by short name ('KV' -> 'etcdserverpb.KV'), for makeGenericClientConstructor. */
export const grpcServiceNames = {
  KV: KVService.name,
  Watch: WatchService.name,
  Lease: LeaseService.name,
  Cluster: ClusterService.name,
  Maintenance: MaintenanceService.name,
  Auth: AuthService.name,
  Lock: LockService.name,
  Election: ElectionService.name,
} as const;
