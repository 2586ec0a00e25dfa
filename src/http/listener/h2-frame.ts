/** HTTP/2 framing (RFC 9113 §4, §6) as far as the client listener reads it, beyond src/pkg/h2/frames.ts. */
import { PADDED, PRIORITY_FLAG } from '../../pkg/h2/frames.js';

/**
 * A HEADERS frame's payload split into its header block fragment and its priority fields (5
 * bytes, when PRIORITY is set), padding removed; undefined when the padding is longer than the
 * payload (a malformed frame the server is left to reject).
 */
export function headersFragment(flags: number, payload: Buffer): { fragment: Buffer; priority: Buffer | undefined } | undefined {
  let start = 0;
  let end = payload.length;
  if ((flags & PADDED) !== 0) {
    start = 1;
    end -= payload[0] ?? 0;
  }
  let priority: Buffer | undefined;
  if ((flags & PRIORITY_FLAG) !== 0) {
    priority = payload.subarray(start, start + 5);
    start += 5;
  }
  return end < start ? undefined : { fragment: payload.subarray(start, end), priority };
}
