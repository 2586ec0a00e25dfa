/**
 * JSON.parse that keeps integers beyond 2^53 exact. Clients such as python-etcd3gw send 64-bit
 * lease and member IDs as bare JSON numbers; JSON.parse would round them to the nearest double
 * and the lease would not be found. Integer literals too long to be safe are turned into strings
 * before parsing (the mapper takes 64-bit fields as strings or numbers), everything else is
 * parsed as usual.
 */

/** Digits beyond which an integer literal may not be exact as a double (2^53 has 16 digits). */
const SAFE_DIGITS = 15;

/** Parses `text` as JSON, with integer literals longer than 15 digits kept as exact strings. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(quoteLongIntegers(text));
}

/** `text` with every integer literal of more than 15 digits outside strings put in quotes. */
export function quoteLongIntegers(text: string): string {
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
      if (c === 0x2d) i++;
      while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      const digits = i - start - (c === 0x2d ? 1 : 0);
      const next = i < n ? text.charCodeAt(i) : 0;
      const isInteger = next !== 0x2e /* . */ && next !== 0x65 /* e */ && next !== 0x45; /* E */
      if (isInteger && digits > SAFE_DIGITS) {
        out ??= [];
        out.push(text.slice(last, start), '"', text.slice(start, i), '"');
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

/**
 * The JSON values of a body holding several in a row (`{...}{...}` or separated by whitespace),
 * as a grpc-gateway stream body carries them; each as its own text. Malformed input is returned
 * as is for JSON.parse to reject.
 */
export function splitJsonValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (start < 0) start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 0) {
        values.push(text.slice(start, i + 1));
        start = -1;
      }
    } else if (c === '{' || c === '[') {
      if (start < 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start >= 0) {
        values.push(text.slice(start, i + 1));
        start = -1;
      }
    } else if (depth === 0 && !/\s/.test(c)) {
      // A bare scalar at the top level: up to the next whitespace or opening brace.
      let j = i;
      while (j < text.length && !/[\s{[]/.test(text[j]!)) j++;
      values.push(text.slice(i, j));
      i = j - 1;
    }
  }
  if (start >= 0) values.push(text.slice(start));
  return values;
}
