/**
 * JSON.parse as etcd's gateway reads a request body (Go's json.Decoder, then jsonpb), keeping
 * what JSON.parse would lose. Clients such as python-etcd3gw send 64-bit lease and member IDs as
 * bare JSON numbers, which JSON.parse would round to the nearest double; and jsonpb refuses
 * `1.5` or `1e2` for an integer field while JSON.parse turns `1e2` into the integer 100. So every
 * number literal that is not a short integer reaches the mapper as its exact text, marked (see
 * {@link rawNumberText}), and the mapper decides as Go would.
 */
import { scanGoJsonValue } from './go-json-scan.js';

/** Digits beyond which an integer literal may not be exact as a double (2^53 has 16 digits). */
const SAFE_DIGITS = 15;

/**
 * The first character of a marked number: a NUL, which no base64 text or etcd name holds.
 * Written into JSON text as its escape.
 */
const RAW_NUMBER_MARK = '\u0000';
const RAW_NUMBER_MARK_JSON = '\\u0000';

/** The literal of a number {@link parseJsonExact} kept as text, or undefined for any other value. */
export function rawNumberText(v: unknown): string | undefined {
  return typeof v === 'string' && v.charCodeAt(0) === 0 ? v.slice(RAW_NUMBER_MARK.length) : undefined;
}

/** JSON's number grammar (RFC 8259 §6). */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The end of the run of number characters starting at `i`. */
function numberEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const d = text.charCodeAt(i);
    if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d || (d >= 0x30 && d <= 0x39)) i++;
    else break;
  }
  return i;
}

/** Whether text[start, end) is an integer of at most 15 digits (with an optional minus). */
function isShortInteger(text: string, start: number, end: number): boolean {
  let i = text.charCodeAt(start) === 0x2d ? start + 1 : start;
  if (end - i > SAFE_DIGITS || i === end) return false;
  for (; i < end; i++) {
    const d = text.charCodeAt(i);
    if (d < 0x30 || d > 0x39) return false;
  }
  return true;
}

/** Parses `text` as JSON, with long integers and non-integer literals kept as marked text. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(markRawNumbers(text));
}

/**
 * `text` with every number literal outside strings that has more than 15 digits, a fraction or
 * an exponent turned into a marked string.
 */
export function markRawNumbers(text: string): string {
  let out: string[] | undefined;
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip a string literal, honouring escapes.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i = numberEnd(text, i);
      // Only a well-formed literal is marked: a malformed one must still fail JSON.parse.
      if (!isShortInteger(text, start, i) && NUMBER.test(text.slice(start, i))) {
        out ??= [];
        out.push(text.slice(last, start), '"', RAW_NUMBER_MARK_JSON, text.slice(start, i), '"');
        last = i;
      }
      continue;
    }
    i++;
  }
  if (out === undefined) return text;
  out.push(text.slice(last));
  return out.join('');
}

/** A decoded body: its first JSON value (undefined for an empty body), or Go's error text. */
export type GoJsonBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * Decodes a whole request body as grpc-gateway does: the first JSON value (what follows it is
 * ignored), `undefined` when there is none (an empty request), Go's syntax error otherwise.
 * Well-formed bodies take JSON.parse's fast path; the Go scanner runs only when it fails.
 */
export function decodeGoJsonBody(body: string): GoJsonBody {
  try {
    return { ok: true, value: parseJsonExact(body) };
  } catch {
    const scan = scanGoJsonValue(body, 0, true);
    if (scan.kind === 'eof') return { ok: true, value: undefined };
    if (scan.kind === 'error') return { ok: false, message: scan.message };
    if (scan.kind === 'incomplete') return { ok: false, message: 'unexpected EOF' };
    return { ok: true, value: parseJsonExact(body.slice(scan.start, scan.end)) };
  }
}
