/** The gRPC API edge: etcd's v3 services on our own HTTP/2 server (or grpc-js), backed by an EtcdServerApi. */
export {
  DEFAULT_KEEPALIVE_INTERVAL_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  GRPC_OVERHEAD_BYTES,
  type GrpcServerOptions,
  MAX_SEND_BYTES,
  createGrpcServer,
  grpcServerOptions,
} from './grpc-server.js';
export { callErrorStatus } from './call-status.js';
export { grpcGoResourceExhaustedText } from './grpc-go-status-text.js';
export { createGrpcH2Server, type GrpcH2Server } from './grpc-h2-server.js';
