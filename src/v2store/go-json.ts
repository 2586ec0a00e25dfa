/**
 * JSON string escaping as Go's encoding/json does it (the Go release etcd 3.4 is built with), so
 * the bodies we send match etcd's byte for byte: `<`, `>`, `&`, U+2028 and U+2029 are written as
 * `\u003c`-style escapes (Go's HTML-safe default), control characters other than `\n`, `\r`, `\t`
 * as `\u00XX` (Go before 1.22 had no `\b`/`\f` short forms).
 */

const HEX = '0123456789abcdef';

function escapeOf(c: number): string | undefined {
  if (c < 0x20) {
    if (c === 0x0a) return '\\n';
    if (c === 0x0d) return '\\r';
    if (c === 0x09) return '\\t';
    return '\\u00' + HEX[c >> 4]! + HEX[c & 0xf]!;
  }
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x3c:
      return '\\u003c';
    case 0x3e:
      return '\\u003e';
    case 0x26:
      return '\\u0026';
    case 0x2028:
      return '\\u2028';
    case 0x2029:
      return '\\u2029';
    default:
      return undefined;
  }
}

/** Any character Go escapes (or that needs a closer look): outside printable ASCII, or `"\\<>&`. */
const MAY_ESCAPE = /[^\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]/;

/** `s` as a quoted JSON string, escaped as Go's json.Marshal escapes it. */
export function goJsonString(s: string): string {
  // Fast path for the common plain-ASCII key or value: one native scan.
  if (!MAY_ESCAPE.test(s)) return `"${s}"`;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Fast path: printable ASCII other than the escaped few needs nothing.
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) continue;
    const esc = escapeOf(c);
    if (esc === undefined) continue;
    out += s.slice(last, i) + esc;
    last = i + 1;
  }
  return last === 0 ? `"${s}"` : `"${out}${s.slice(last)}"`;
}
