/**
 * A grpc-js server-streaming handler that sends what an AsyncIterable yields (etcd's
 * Maintenance.Snapshot): it waits for the stream to drain when grpc-js's buffer is full, stops
 * pulling (and closes the iterator) when the client cancels, and ends the call with etcd's status
 * when the iterable fails.
 */
import type { Metadata, ServerWritableStream, handleServerStreamingCall } from '@grpc/grpc-js';
import type { Logger } from '../pkg/logger.js';
import { callErrorStatus } from './call-status.js';
import { UndecodableRequest } from './request-decoding.js';

/** Resolves when `call` can take more data, or is cancelled or closed. */
function drained(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

async function pump<Req, Res>(call: ServerWritableStream<Req | UndecodableRequest, Res>, path: string, method: (req: Req, md: Metadata) => AsyncIterable<Res>, logger: Logger): Promise<void> {
  const req = call.request;
  if (req instanceof UndecodableRequest) {
    call.emit('error', req.status);
    return;
  }
  let iterator: AsyncIterator<Res> | undefined;
  let finished = false;
  try {
    iterator = method(req, call.metadata)[Symbol.asyncIterator]();
    while (!call.cancelled) {
      const next = await iterator.next();
      if (next.done === true) {
        finished = true;
        break;
      }
      if (call.cancelled) break;
      if (!call.write(next.value)) await drained(call as ServerWritableStream<unknown, unknown>);
    }
    if (!call.cancelled) call.end();
  } catch (err) {
    finished = true; // a throwing iterator is done; do not ask it to return
    if (!call.cancelled) call.emit('error', callErrorStatus(err, path, logger));
  } finally {
    if (!finished && iterator?.return !== undefined) {
      try {
        await iterator.return();
      } catch (err) {
        logger.warn('closing a cancelled stream source failed', { method: path, error: err });
      }
    }
  }
}

/** The handler streaming `method`'s responses. */
export function serverStreamingHandler<Req, Res>(path: string, method: (req: Req, md: Metadata) => AsyncIterable<Res>, logger: Logger): handleServerStreamingCall<Req | UndecodableRequest, Res> {
  return (call) => {
    void pump(call, path, method, logger);
  };
}
