/**
 * Catalogued errors as values: the EtcdError the server throws or returns, the status object the
 * gRPC edge hands to grpc-js, and the reverse lookup a client uses on a received status.
 */
import { EtcdError } from '../../pkg/errors.js';
import { type RpcErrorCode, type RpcErrorSpec, rpcErrorSpecByMessage, rpcErrorSpecs } from './catalogue.js';
import { GrpcStatus } from './grpc-status.js';

/** An error from the catalogue; `code` is the catalogue code, `message` etcd's exact text. */
export class RpcError extends EtcdError {
  /** gRPC status code to answer with. */
  readonly status: GrpcStatus;
  readonly spec: RpcErrorSpec;

  constructor(spec: RpcErrorSpec, options?: ErrorOptions) {
    super(spec.code, spec.message, options);
    this.name = 'RpcError';
    this.status = spec.status;
    this.spec = spec;
  }
}

/** A new RpcError for a catalogue code; `cause` keeps the internal error for logs. */
export function rpcError(code: RpcErrorCode, cause?: unknown): RpcError {
  return new RpcError(rpcErrorSpecs[code], cause === undefined ? undefined : { cause });
}

/** Whether `err` is a catalogued error, optionally of the given code. */
export function isRpcError(err: unknown, code?: RpcErrorCode): err is RpcError {
  return err instanceof RpcError && (code === undefined || err.code === code);
}

/**
 * The shape grpc-js takes as a call's error (`callback(err)`, `call.destroy(err)`,
 * `call.emit('error', err)`) and gives back to clients: numeric status plus text.
 */
export interface GrpcStatusError {
  code: number;
  details: string;
  message: string;
}

/** The grpc-js status object for a catalogued error; details and message are both etcd's text. */
export function toServiceError(error: RpcErrorSpec | RpcError): GrpcStatusError {
  const spec = error instanceof RpcError ? error.spec : error;
  return { code: spec.status, details: spec.message, message: spec.message };
}

/**
 * The catalogue entry a received status stands for, if any. Like etcd's client, it matches on the
 * text alone: `details` when present, else `message` with grpc-js's "<code> <NAME>: " prefix
 * removed.
 */
export function specFromStatus(status: { code?: number; details?: string; message?: string }): RpcErrorSpec | undefined {
  if (status.details !== undefined && status.details !== '') return rpcErrorSpecByMessage(status.details);
  if (status.message === undefined) return undefined;
  const direct = rpcErrorSpecByMessage(status.message);
  if (direct !== undefined) return direct;
  const m = /^\d+ [A-Z_]+: (.*)$/s.exec(status.message);
  return m === null ? undefined : rpcErrorSpecByMessage(m[1]);
}

/** A received status turned back into an RpcError, or undefined when it is not catalogued. */
export function rpcErrorFromStatus(status: { code?: number; details?: string; message?: string }): RpcError | undefined {
  const spec = specFromStatus(status);
  return spec === undefined ? undefined : new RpcError(spec);
}
