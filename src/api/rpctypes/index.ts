/** The error catalogue of the v3 gRPC API, shared by server and client. */
export { GrpcStatus } from './grpc-status.js';
export { RPC_ERROR_SPECS, type RpcErrorCode, type RpcErrorSpec, rpcErrorSpecByMessage, rpcErrorSpecs } from './catalogue.js';
export { type GrpcStatusError, RpcError, isRpcError, rpcError, rpcErrorFromStatus, specFromStatus, toServiceError } from './rpc-error.js';
