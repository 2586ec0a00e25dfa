/**
 * grpc-js words some statuses it sends on its own differently from grpc-go, whose words etcd's
 * clients see from real etcd. This interceptor rewrites them:
 *
 * - a request above the receive limit: grpc-js "Received message larger than max (X vs Y)",
 *   grpc-go "grpc: received message larger than max (X vs. Y)" (RESOURCE_EXHAUSTED both);
 * - a response above the send limit: grpc-js "Sent message larger than max (X vs. Y)", grpc-go
 *   "grpc: trying to send message larger than max (X vs. Y)".
 *
 * grpc-js sends these from inside its base call object (`this.sendStatus(...)`), below every
 * interceptor's responder, so the only place to catch them is that object's own `sendStatus`: the
 * interceptor shadows it with one shared function. Per call that is one property store, and per
 * status one integer comparison. A unit test pins the rewritten texts, so a grpc-js upgrade that
 * changes its wording or call path shows up there.
 */
import type { ServerInterceptingCall, ServerInterceptingCallInterface, ServerInterceptor, StatusObject } from '@grpc/grpc-js';
import { GrpcStatus } from '../api/rpctypes/index.js';

type PartialStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

const RECEIVED_TOO_LARGE = /^Received message larger than max \((\d+) vs\.? (\d+)\)$/;
const SENT_TOO_LARGE = /^Sent message larger than max \((\d+) vs\.? (\d+)\)$/;

/** grpc-go's text for a request of `length` bytes above the receive limit `max`. */
export function receivedTooLargeText(length: number | string, max: number | string): string {
  return `grpc: received message larger than max (${length} vs. ${max})`;
}

/** grpc-go's text for a message with the compressed flag on a call without an encoding. */
export const COMPRESSED_WITHOUT_ENCODING_TEXT = 'grpc: compressed flag set with identity or empty encoding';

/** grpc-go's text for a grpc-js RESOURCE_EXHAUSTED text, or undefined when it has no counterpart. */
export function grpcGoResourceExhaustedText(details: string): string | undefined {
  let m = RECEIVED_TOO_LARGE.exec(details);
  if (m !== null) return receivedTooLargeText(m[1]!, m[2]!);
  m = SENT_TOO_LARGE.exec(details);
  if (m !== null) return `grpc: trying to send message larger than max (${m[1]} vs. ${m[2]})`;
  return undefined;
}

function sendStatusWithGoText(this: ServerInterceptingCallInterface, status: PartialStatus): void {
  let out = status;
  if ((status.code as number) === GrpcStatus.RESOURCE_EXHAUSTED && status.details !== undefined) {
    const text = grpcGoResourceExhaustedText(status.details);
    if (text !== undefined) out = { ...status, details: text } as Partial<StatusObject> & PartialStatus;
  }
  // The prototype's method: this function only shadows it on the instance.
  (Object.getPrototypeOf(this) as ServerInterceptingCallInterface).sendStatus.call(this, out);
}

/** The interceptor installing {@link sendStatusWithGoText} on each call's base object. */
export const grpcGoStatusText: ServerInterceptor = (_method, call) => {
  call.sendStatus = sendStatusWithGoText;
  // The base call is returned as is: wrapping it in a ServerInterceptingCall would add a layer
  // of queues per call for nothing. grpc-js only uses the interface.
  return call as ServerInterceptingCall;
};
