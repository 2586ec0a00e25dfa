/**
 * Trailers sent in the same write as the response's last DATA frame.
 *
 * Node's `sendTrailers` defers the submit to nghttp2 with a setImmediate ("not on nghttp2's
 * stack"), and the HEADERS frame then waits for the session's next scheduled write: one more
 * event-loop turn, after whatever I/O arrived meanwhile. A unary gRPC call is complete only with
 * its trailers, so every call paid that turn (0.2–0.5 ms on an idle member, more under load).
 * nghttp2 allows submitting trailers from inside the data callback that asks for them (its
 * NGHTTP2_DATA_FLAG_NO_END_STREAM contract), which is where 'wantTrailers' is emitted.
 *
 * The stream handle's `trailers` method takes the header list in Node's internal encoding. It is
 * never built here: the first call with a given trailers object goes through `sendTrailers`, and
 * the list Node builds is recorded and replayed for that same object afterwards. A replay skips
 * `sendTrailers` altogether: what it records besides the submit (the trailers sent, a flag that
 * only decides whether a stream without trailers may close early) is read by nothing once the
 * trailers are out; nghttp2 closes the stream as usual. Without the handle (another Node), and
 * whenever the replayed submit fails, plain `sendTrailers`.
 */
import type { ServerHttp2Stream } from 'node:http2';

interface StreamHandle {
  trailers(list: unknown): number;
}

/** Header lists Node built for each constant trailers object. */
const recorded = new WeakMap<object, unknown>();
let handleKey: symbol | null | undefined;

function handleOf(stream: ServerHttp2Stream): StreamHandle | undefined {
  if (handleKey === undefined) handleKey = Object.getOwnPropertySymbols(stream).find((s) => s.description === 'kHandle') ?? null;
  if (handleKey === null) return undefined;
  const h = (stream as unknown as Record<symbol, unknown>)[handleKey] as StreamHandle | undefined;
  return h !== undefined && typeof h.trailers === 'function' ? h : undefined;
}

/**
 * Sends `trailers` now. Call it only from the stream's 'wantTrailers' listener; `trailers` must be
 * a constant object (its encoding is cached by identity).
 */
export function sendTrailersNow(stream: ServerHttp2Stream, trailers: Readonly<Record<string, string>>): void {
  const handle = handleOf(stream);
  if (handle === undefined) {
    stream.sendTrailers(trailers);
    return;
  }
  const submit = handle.trailers;
  const list = recorded.get(trailers);
  if (list === undefined) {
    handle.trailers = (l: unknown): number => {
      recorded.set(trailers, l);
      return submit.call(handle, l);
    };
    stream.sendTrailers(trailers);
    return;
  }
  // On failure Node's own path submits again and reports what goes wrong.
  if (submit.call(handle, list) !== 0) stream.sendTrailers(trailers);
}
