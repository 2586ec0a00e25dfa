/**
 * grpc-js service definitions for the server side, with request decoding failures kept as values.
 * grpc-js answers a request its deserializer throws on with INTERNAL "Error deserializing
 * request" and drops the cause; etcd (grpc-go) answers INTERNAL "grpc: error unmarshalling
 * request: <cause>". So the deserializer here returns an {@link UndecodableRequest} instead of
 * throwing, and the handler answers with grpc-go's text.
 */
import type { GrpcMethodDefinition, GrpcServiceDefinition, MethodDescriptor } from '../api/codec.js';
import { GrpcStatus, type GrpcStatusError } from '../api/rpctypes/index.js';

/** A request body that is not a valid protobuf message of the method's request type. */
export class UndecodableRequest {
  /** INTERNAL with grpc-go's text for an unmarshalling failure. */
  readonly status: GrpcStatusError;

  constructor(cause: unknown) {
    // Truncated input is the usual case; the Go decoder names it io.ErrUnexpectedEOF.
    const why = cause instanceof RangeError ? 'unexpected EOF' : cause instanceof Error ? cause.message : String(cause);
    const text = `grpc: error unmarshalling request: ${why}`;
    this.status = { code: GrpcStatus.INTERNAL, details: text, message: text };
  }
}

/** `decode` made total: a request it throws on becomes an {@link UndecodableRequest} value. */
export function totalDecoder<Req>(decode: (bytes: Buffer) => Req): (bytes: Buffer) => Req | UndecodableRequest {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (err) {
      return new UndecodableRequest(err);
    }
  };
}

/** A method definition whose deserializer yields `Req | UndecodableRequest` and never throws. */
export type EdgeMethodDefinition<Req, Res> = Omit<GrpcMethodDefinition<Req, Res>, 'requestDeserialize'> & {
  requestDeserialize: (bytes: Buffer) => Req | UndecodableRequest;
};

/** A service definition whose every method is an {@link EdgeMethodDefinition}. */
export type EdgeServiceDefinition<M> = {
  readonly [K in keyof M]: M[K] extends MethodDescriptor<infer Req, infer Res> ? EdgeMethodDefinition<Req, Res> : never;
};

/** `service` with every request deserializer made total (see the module comment). */
export function edgeServiceDefinition<M>(service: GrpcServiceDefinition<M>): EdgeServiceDefinition<M> {
  const out: Record<string, EdgeMethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries<GrpcMethodDefinition<unknown, unknown>>(service as Record<string, GrpcMethodDefinition<unknown, unknown>>)) {
    out[name] = { ...method, requestDeserialize: totalDecoder(method.requestDeserialize) };
  }
  return out as EdgeServiceDefinition<M>;
}
