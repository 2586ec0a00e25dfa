/** How etcd 3.4's grpc-gateway (v1) turns a gRPC status into an HTTP answer. */
import { GrpcStatus } from '../../api/rpctypes/index.js';

/** grpc-gateway v1's HTTPStatusFromCode (v1 still maps FailedPrecondition to 412). */
export function httpStatusOfGrpcCode(code: number): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.CANCELLED:
      return 408;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    case GrpcStatus.FAILED_PRECONDITION:
      return 412;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
      return 409;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.UNIMPLEMENTED:
      return 501;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

/** grpc-gateway's error body for a status (jsonpb: empty text is left out). */
export function gatewayErrorBody(code: number, text: string): string {
  return text === '' ? `{"code":${code}}` : `{"error":${JSON.stringify(text)},"message":${JSON.stringify(text)},"code":${code}}`;
}
