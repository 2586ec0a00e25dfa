/**
 * What grpc-gateway does for a bidirectional stream route (Watch, LeaseKeepAlive), shared by
 * both: the request body is read as a stream of JSON requests (see go-json-stream.ts) and each
 * answer is written as its own chunk `{"result":...}` plus a newline, flushed at once.
 *
 * Its error cases, as etcd 3.4 shows them: a first request that does not decode fails the call
 * before the stream opens (500, `{"error":...,"code":2}`, since the decode error carries no gRPC
 * status); a later one only ends the request side (CloseSend), as does the end of the body; an
 * error of the stream itself is written in the stream as `{"error":{"grpc_code":...}}`. The
 * response headers go out with the first answer, as grpc-gateway sends them once the server's
 * header arrives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GrpcStatus } from '../../api/rpctypes/index.js';
import { GoJsonStream } from './go-json-stream.js';
import { JsonMappingError, messageFromJson } from './json-mapper.js';

/** The callbacks of {@link readGatewayStream}. */
export interface GatewayStreamHandlers<T> {
  /** A decoded request. */
  request(req: T): void;
  /** No more requests will come (the body ended or a later request did not decode). */
  end(): void;
}

/** net/http's StatusText for the statuses grpc-gateway maps gRPC codes to. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Reads `req`'s body as a stream of `requestType` messages. The first request that fails to
 * decode before any was delivered is answered at once with grpc-gateway's error (the caller's
 * handlers see nothing); `maxValueBytes` bounds one request's text.
 */
export function readGatewayStream<T>(
  req: IncomingMessage,
  res: ServerResponse,
  requestType: string,
  maxValueBytes: number,
  handlers: GatewayStreamHandlers<T>,
): void {
  const stream = new GoJsonStream();
  let delivered = 0;
  let done = false;
  const finish = (message: string | undefined): void => {
    done = true;
    req.removeListener('data', onData);
    req.resume();
    if (message !== undefined && delivered === 0) {
      writeUnknownError(res, message);
      return;
    }
    handlers.end();
  };
  const pump = (): void => {
    while (!done) {
      const item = stream.next();
      if (item.kind === 'wait') {
        if (stream.buffered > maxValueBytes) finish(`grpc: received message larger than max (${stream.buffered} vs. ${maxValueBytes})`);
        return;
      }
      if (item.kind === 'eof') return finish(undefined);
      if (item.kind === 'error') return finish(item.message);
      let decoded: T;
      try {
        decoded = messageFromJson<T>(requestType, item.value ?? null);
      } catch (err) {
        if (!(err instanceof JsonMappingError)) throw err;
        return finish(err.message);
      }
      delivered++;
      handlers.request(decoded);
    }
  };
  const onData = (chunk: string): void => {
    stream.push(chunk);
    pump();
  };
  req.setEncoding('utf8');
  req.on('data', onData);
  req.on('end', () => {
    stream.end();
    pump();
  });
}

/** A failure before the stream opened: no gRPC status, so grpc-gateway reports code Unknown. */
function writeUnknownError(res: ServerResponse, message: string): void {
  res.statusCode = 500;
  res.setHeader('Content-Type', 'application/json');
  const text = JSON.stringify(message);
  res.end(`{"error":${text},"message":${text},"code":${GrpcStatus.UNKNOWN}}`);
}

/** Writes the answers of one stream route; see the file comment. */
export class GatewayStreamWriter {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  /** Whether the client is gone or the response was ended. */
  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.statusCode = 200;
    this.res.setHeader('Content-Type', 'application/json');
    this.res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
  }

  /** Writes one answer (its JSON); false when the socket's buffer is full (wait for 'drain'). */
  result(json: string): boolean {
    if (this.closed) return true;
    this.start();
    // One write per answer: one HTTP chunk per line, as clients that read chunk by chunk expect.
    return this.res.write(`{"result":${json}}\n`);
  }

  /** Writes grpc-gateway's in-stream error for gRPC `code` and ends the response. */
  error(code: number, message: string, httpStatus: number): void {
    if (this.closed) return;
    if (!this.started) {
      this.started = true;
      this.res.statusCode = httpStatus;
      this.res.setHeader('Content-Type', 'application/json');
    }
    const status = STATUS_TEXT[httpStatus] ?? '';
    this.res.end(`{"error":{"grpc_code":${code},"http_code":${httpStatus},"message":${JSON.stringify(message)},"http_status":${JSON.stringify(status)}}}`);
  }

  /** Ends the response (the server side of the stream finished). */
  end(): void {
    if (this.closed) return;
    if (!this.started) {
      // grpc-gateway sets these before it knows the stream is empty.
      this.started = true;
      this.res.statusCode = 200;
      this.res.setHeader('Content-Type', 'application/json');
      this.res.setHeader('Transfer-Encoding', 'chunked');
    }
    this.res.end();
  }
}
