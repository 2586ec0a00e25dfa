/**
 * The gateway's one streaming route that clients use: POST /v3/lease/keepalive. As grpc-gateway
 * does for a bidirectional stream, the body is a sequence of JSON requests; each answer is written
 * as its own `{"result":...}` line, and the response ends once every request was answered.
 */
import type { ServerResponse } from 'node:http';
import { GrpcStatus, RpcError } from '../../api/rpctypes/index.js';
import type { LeaseKeepAliveRequest } from '../../api/gen/etcdserverpb.js';
import type { EtcdServerApi } from '../../server/server-api.js';
import { parseJsonExact, splitJsonValues } from './exact-json.js';
import { messageFromJson, messageToJson } from './json-mapper.js';

/** The path etcd's gateway serves LeaseKeepAlive on. */
export const KEEPALIVE_PATH = '/v3/lease/keepalive';

/** grpc-gateway's in-stream error object. */
function streamError(code: number, message: string, httpStatus: number): string {
  return `{"error":{"grpc_code":${code},"http_code":${httpStatus},"message":${JSON.stringify(message)},"http_status":${JSON.stringify(String(httpStatus))}}}\n`;
}

/**
 * Answers a keep-alive stream. `body` is the whole request body (already size-checked by the
 * caller); `writeError` answers a failure before anything was streamed.
 */
export async function serveKeepAlive(
  api: EtcdServerApi,
  body: string,
  res: ServerResponse,
  writeError: (code: number, text: string) => void,
): Promise<void> {
  const lease = api.lease;
  if (lease === undefined) {
    writeError(GrpcStatus.UNIMPLEMENTED, 'unknown service etcdserverpb.Lease');
    return;
  }
  let requests: LeaseKeepAliveRequest[];
  try {
    requests = splitJsonValues(body).map((v) => messageFromJson<LeaseKeepAliveRequest>('etcdserverpb.LeaseKeepAliveRequest', parseJsonExact(v)));
  } catch (err) {
    writeError(GrpcStatus.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
  for (const r of requests) {
    try {
      const answer = await lease.leaseKeepAlive(r.ID);
      res.write(`{"result":${messageToJson('etcdserverpb.LeaseKeepAliveResponse', answer)}}\n`);
    } catch (err) {
      const code = err instanceof RpcError ? err.status : GrpcStatus.UNKNOWN;
      res.write(streamError(code, err instanceof Error ? err.message : String(err), 500));
      break;
    }
  }
  res.end();
}
