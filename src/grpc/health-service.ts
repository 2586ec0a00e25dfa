/**
 * The standard gRPC health service (grpc.health.v1.Health) as etcd 3.4 registers it: grpc-go's
 * health server with the overall service "" SERVING and no other service known. Check answers
 * NOT_FOUND "unknown service" for any other name; Watch sends the status (SERVICE_UNKNOWN for an
 * unknown name) and then stays open, since the status never changes. The two messages are tiny,
 * so their codec is written here rather than generated.
 */
import type { ServerUnaryCall, ServerWritableStream, ServiceDefinition, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { GrpcStatus, type GrpcStatusError } from '../api/rpctypes/index.js';
import { UndecodableRequest, totalDecoder } from './request-decoding.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  SERVICE_UNKNOWN = 3,
}

/** grpc.health.v1.HealthCheckRequest. */
export interface HealthCheckRequest {
  /** (service = 1) */
  service: string;
}

/** grpc.health.v1.HealthCheckResponse. */
export interface HealthCheckResponse {
  /** (status = 1) */
  status: ServingStatus;
}

/** Encodes a HealthCheckRequest (an empty name is the default and not sent). */
export function encodeHealthCheckRequest(req: HealthCheckRequest): Buffer {
  const w = protobuf.Writer.create();
  if (req.service !== '') w.uint32(10).string(req.service);
  return Buffer.from(w.finish());
}

/** Decodes a HealthCheckRequest; throws on malformed input. */
export function decodeHealthCheckRequest(bytes: Uint8Array): HealthCheckRequest {
  const r = protobuf.Reader.create(bytes);
  const req: HealthCheckRequest = { service: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 10) req.service = r.string();
    else r.skipType(tag & 7);
  }
  return req;
}

/** Encodes a HealthCheckResponse. */
export function encodeHealthCheckResponse(res: HealthCheckResponse): Buffer {
  const w = protobuf.Writer.create();
  if (res.status !== ServingStatus.UNKNOWN) w.uint32(8).int32(res.status);
  return Buffer.from(w.finish());
}

/** Decodes a HealthCheckResponse; throws on malformed input. */
export function decodeHealthCheckResponse(bytes: Uint8Array): HealthCheckResponse {
  const r = protobuf.Reader.create(bytes);
  const res: HealthCheckResponse = { status: ServingStatus.UNKNOWN };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 8) res.status = r.int32() as ServingStatus;
    else r.skipType(tag & 7);
  }
  return res;
}

const method = (name: string, responseStream: boolean) => ({
  path: `/grpc.health.v1.Health/${name}`,
  originalName: name,
  requestStream: false,
  responseStream,
  requestSerialize: encodeHealthCheckRequest,
  requestDeserialize: totalDecoder(decodeHealthCheckRequest),
  responseSerialize: encodeHealthCheckResponse,
  responseDeserialize: decodeHealthCheckResponse,
});

/** The service definition (server side: undecodable requests become values), usable by clients too. */
export const healthServiceDefinition = { Check: method('Check', false), Watch: method('Watch', true) } satisfies ServiceDefinition;

/** The status of `service`: only the overall service "" is known, and it is always SERVING. */
function statusOf(service: string): ServingStatus | undefined {
  return service === '' ? ServingStatus.SERVING : undefined;
}

const SERVING_RESPONSE: HealthCheckResponse = { status: ServingStatus.SERVING };
/** grpc-go's answer to Check for a name it has no status for. */
const UNKNOWN_SERVICE_STATUS: GrpcStatusError = { code: GrpcStatus.NOT_FOUND, details: 'unknown service', message: 'unknown service' };
const UNKNOWN_SERVICE_RESPONSE: HealthCheckResponse = { status: ServingStatus.SERVICE_UNKNOWN };

/** The grpc.health.v1.Health service. */
export function healthService(): { name: string; definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  return {
    name: 'grpc.health.v1.Health',
    definition: healthServiceDefinition as unknown as ServiceDefinition,
    implementation: {
      Check(call: ServerUnaryCall<HealthCheckRequest | UndecodableRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>): void {
        const req = call.request;
        if (req instanceof UndecodableRequest) {
          callback(req.status);
          return;
        }
        if (statusOf(req.service) === undefined) {
          callback(UNKNOWN_SERVICE_STATUS);
          return;
        }
        callback(null, SERVING_RESPONSE);
      },
      Watch(call: ServerWritableStream<HealthCheckRequest | UndecodableRequest, HealthCheckResponse>): void {
        const req = call.request;
        if (req instanceof UndecodableRequest) {
          call.emit('error', req.status);
          return;
        }
        // The status never changes, so after the first answer the stream idles until the client leaves.
        call.write(statusOf(req.service) === undefined ? UNKNOWN_SERVICE_RESPONSE : SERVING_RESPONSE);
      },
    },
  };
}
