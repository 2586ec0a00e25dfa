/**
 * etcd's Lease service: grant, revoke, time-to-live and list as unary calls, keep-alive as a
 * bidirectional stream answering each request in order (a lease that does not exist answers
 * TTL 0, as etcd's does; any other failure ends the stream with etcd's status).
 */
import type { ServerDuplexStream, handleBidiStreamingCall } from '@grpc/grpc-js';
import type * as pb from '../api/gen/etcdserverpb.js';
import type { GrpcStatusError } from '../api/rpctypes/index.js';
import type { Logger } from '../pkg/logger.js';
import type { LeaseApi } from '../server/lease-api.js';
import { callErrorStatus } from './call-status.js';
import { UndecodableRequest } from './request-decoding.js';

/** The LeaseKeepAlive handler over `api`. */
export function leaseKeepAliveHandler(
  api: LeaseApi,
  path: string,
  logger: Logger,
): handleBidiStreamingCall<pb.LeaseKeepAliveRequest | UndecodableRequest, pb.LeaseKeepAliveResponse> {
  return (call: ServerDuplexStream<pb.LeaseKeepAliveRequest | UndecodableRequest, pb.LeaseKeepAliveResponse>) => {
    let done = false;
    // Set when the stream ends: renewals still under way stop (etcd renews under the stream's context).
    const gone = { aborted: false };
    // Answers go out in request order.
    let chain: Promise<void> = Promise.resolve();
    const fail = (status: GrpcStatusError): void => {
      if (done) return;
      done = true;
      gone.aborted = true;
      call.emit('error', status);
    };
    call.on('data', (req: pb.LeaseKeepAliveRequest | UndecodableRequest) => {
      if (done) return;
      if (req instanceof UndecodableRequest) {
        fail(req.status);
        return;
      }
      // Renewals start at once (a client multiplexing many leases on one stream, as clientv3 and
      // etcd3 do, must not wait a leader round trip per lease); only the answers are ordered.
      const renewed = api.leaseKeepAlive(req.ID, gone);
      renewed.catch(() => undefined);
      chain = chain.then(async () => {
        if (done || call.cancelled) return;
        try {
          const resp = await renewed;
          if (!done && !call.cancelled) call.write(resp);
        } catch (err) {
          fail(callErrorStatus(err, path, logger));
        }
      });
    });
    call.on('end', () => {
      // The client is done sending: finish once every answer is out.
      void chain.then(() => {
        if (done || call.cancelled) return;
        done = true;
        call.end();
      });
    });
    const stop = (): void => {
      done = true;
      gone.aborted = true;
    };
    call.on('cancelled', stop);
    call.on('error', stop);
  };
}
