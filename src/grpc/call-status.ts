/**
 * The status a failed call answers with. Catalogued errors go out exactly as etcd sends them;
 * anything else is a bug or an unexpected condition: it is logged and answered as etcd answers an
 * error it does not translate (togRPCError's fallback), which grpc-go sends as UNKNOWN with the
 * error's own text.
 */
import { GrpcStatus, type GrpcStatusError, RpcError, type RpcErrorSpec, toServiceError } from '../api/rpctypes/index.js';
import type { Logger } from '../pkg/logger.js';

// Catalogued statuses are immutable; one object per catalogue entry, built on first use.
const statusBySpec = new Map<RpcErrorSpec, GrpcStatusError>();

/** The status object for a catalogued error, shared between calls. */
export function catalogedStatus(err: RpcError): GrpcStatusError {
  let status = statusBySpec.get(err.spec);
  if (status === undefined) {
    status = toServiceError(err);
    statusBySpec.set(err.spec, status);
  }
  return status;
}

/** The text of a thrown value that is not catalogued. */
function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The status to answer `method` with after it failed with `err`. Never throws. An uncatalogued
 * error is logged at error level with its stack; a catalogued one only at debug level.
 */
export function callErrorStatus(err: unknown, method: string, logger: Logger): GrpcStatusError {
  if (err instanceof RpcError) {
    if (logger.enabled('debug')) logger.debug('request refused', { method, error: err.message });
    return catalogedStatus(err);
  }
  const text = errorText(err);
  logger.error('unexpected error serving request', { method, error: text, stack: err instanceof Error ? err.stack : undefined });
  return { code: GrpcStatus.UNKNOWN, details: text, message: text };
}
