/**
 * A grpc-js unary handler around one server method: decode failures and refusals answer with
 * etcd's status, anything unexpected is logged and answered, and nothing is thrown into grpc-js.
 */
import type { Metadata, ServerUnaryCall, handleUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from '../pkg/logger.js';
import type { CallState } from '../server/server-api.js';
import { callErrorStatus } from './call-status.js';
import { UndecodableRequest } from './request-decoding.js';

/**
 * The handler for `method` (its gRPC path names it in logs), which also gets the call's metadata
 * (its auth token) and the call itself (`cancelled` once the client gave up). Per call: one
 * promise and two closures.
 */
export function unaryHandler<Req, Res>(path: string, method: (req: Req, md: Metadata, call: CallState) => Promise<Res>, logger: Logger): handleUnaryCall<Req | UndecodableRequest, Res> {
  return (call: ServerUnaryCall<Req | UndecodableRequest, Res>, callback: sendUnaryData<Res>): void => {
    const req = call.request;
    if (req instanceof UndecodableRequest) {
      callback(req.status);
      return;
    }
    let pending: Promise<Res>;
    try {
      pending = method(req, call.metadata, call);
    } catch (err) {
      callback(callErrorStatus(err, path, logger));
      return;
    }
    pending.then(
      (res) => callback(null, res),
      (err: unknown) => callback(callErrorStatus(err, path, logger)),
    );
  };
}
