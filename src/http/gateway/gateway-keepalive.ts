/**
 * POST /v3/lease/keepalive on the JSON gateway: etcd's LeaseKeepAlive stream. The body is a
 * stream of LeaseKeepAliveRequest objects; each is answered in order as its own
 * `{"result":...}` line, and, as etcd's lease server returns once its requests end, the
 * response ends once the body has ended and every request was answered. See gateway-stream.ts
 * for bad requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GrpcStatus, RpcError } from '../../api/rpctypes/index.js';
import type { LeaseKeepAliveRequest } from '../../api/gen/etcdserverpb.js';
import type { LeaseApi } from '../../server/lease-api.js';
import { GatewayStreamWriter, readGatewayStream } from './gateway-stream.js';
import { httpStatusOfGrpcCode } from './grpc-http-status.js';
import { messageToJson } from './json-mapper.js';

/** The path etcd's gateway serves LeaseKeepAlive on. */
export const KEEPALIVE_PATH = '/v3/lease/keepalive';

/** Serves one keep-alive stream over the member's lease service. */
export function serveKeepAlive(lease: LeaseApi, req: IncomingMessage, res: ServerResponse, maxValueBytes: number): void {
  const out = new GatewayStreamWriter(res);
  let chain: Promise<boolean> = Promise.resolve(true);
  readGatewayStream<LeaseKeepAliveRequest>(req, res, 'etcdserverpb.LeaseKeepAliveRequest', maxValueBytes, {
    // Answers go out in request order: each waits for the one before.
    request: (r) => {
      chain = chain.then(async (ok) => {
        if (!ok || out.closed) return false;
        try {
          const answer = await lease.leaseKeepAlive(r.ID);
          out.result(messageToJson('etcdserverpb.LeaseKeepAliveResponse', answer));
          return true;
        } catch (err) {
          const code = err instanceof RpcError ? err.status : GrpcStatus.UNKNOWN;
          out.error(code, err instanceof Error ? err.message : String(err), httpStatusOfGrpcCode(code));
          return false;
        }
      });
    },
    end: () => {
      void chain.then((ok) => {
        if (ok) out.end();
      });
    },
  });
}
