/**
 * Where the first JSON value of a text ends, with the syntax errors Go's `encoding/json` Decoder
 * reports (etcd's gateway decodes every request body with one): `invalid character 'x' looking
 * for beginning of value`, `unexpected EOF` for a value cut short, and nothing for a body of
 * whitespace only (io.EOF, which the gateway takes as an empty request). As Go's Decoder, it
 * stops at the end of the first value and ignores what follows; a number at the end of the
 * text is complete only when the text is (Go needs the byte after it).
 */

/** The outcome of scanning for one value from an offset. */
export type GoJsonScan =
  /** A complete value at text[start, end). */
  | { readonly kind: 'value'; readonly start: number; readonly end: number }
  /** A syntax error, with Go's text. */
  | { readonly kind: 'error'; readonly message: string }
  /** Only whitespace up to the end of the text (Go's io.EOF when the input is complete). */
  | { readonly kind: 'eof' }
  /** The value goes on past the end of the text: more input is needed. */
  | { readonly kind: 'incomplete' };

/** Go's maxNestingDepth. */
const MAX_DEPTH = 10000;

// Scanner states, named for Go's scanner functions.
const BEGIN_VALUE = 0;
const BEGIN_STRING_OR_EMPTY = 1;
const BEGIN_STRING = 2;
const BEGIN_VALUE_OR_EMPTY = 3;
const END_VALUE = 4;
const IN_STRING = 5;
const IN_STRING_ESC = 6;
const IN_STRING_ESC_U = 7; // +0..+3: hex digits seen
const NEG = 11;
const ONE = 12;
const ZERO = 13;
const DOT = 14;
const DOT0 = 15;
const E = 16;
const E_SIGN = 17;
const E0 = 18;
const LITERAL = 19;

// What an open bracket is waiting for (Go's parseObjectKey, parseObjectValue, parseArrayValue).
const OBJECT_KEY = 0;
const OBJECT_VALUE = 1;
const ARRAY_VALUE = 2;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * Go's quoteChar of the offending byte: `'x'`, `'\''`, `'"'`, or a Go escape for unprintable
 * ones. A non-ASCII character is reported by its first UTF-8 byte, read as a Latin-1 rune.
 */
export function goQuoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  let c = ch.charCodeAt(0);
  if (c >= 0x80) c = Buffer.from(ch, 'utf8')[0]!;
  switch (c) {
    case 0x07:
      return "'\\a'";
    case 0x08:
      return "'\\b'";
    case 0x0c:
      return "'\\f'";
    case 0x0a:
      return "'\\n'";
    case 0x0d:
      return "'\\r'";
    case 0x09:
      return "'\\t'";
    case 0x0b:
      return "'\\v'";
    case 0x5c:
      return "'\\\\'";
  }
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if ((c >= 0x80 && c < 0xa0) || c === 0xad) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  if (c === 0xa0) return "'\\u00a0'";
  return `'${String.fromCharCode(c)}'`;
}

const LITERAL_NAMES: Record<string, string> = { t: 'true', f: 'false', n: 'null' };

/**
 * Scans the first JSON value of `text` from `from`, as Go's json.Decoder does.
 * @param atEof whether `text` holds all the input (no more will come)
 */
export function scanGoJsonValue(text: string, from: number, atEof: boolean): GoJsonScan {
  const n = text.length;
  let i = from;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (i >= n) return atEof ? { kind: 'eof' } : { kind: 'incomplete' };
  const start = i;
  const stack: number[] = [];
  let state = BEGIN_VALUE;
  let literal = '';
  let literalPos = 0;
  const fail = (context: string): GoJsonScan => ({ kind: 'error', message: `invalid character ${goQuoteChar(String.fromCodePoint(text.codePointAt(i)!))} ${context}` });
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    // A state may hand the same character to the next state (Go's `return stateX(s, c)`).
    for (;;) {
      switch (state) {
        case BEGIN_VALUE_OR_EMPTY:
          if (isSpace(c)) break;
          if (c === 0x5d /* ] */) {
            stack.pop();
            state = END_VALUE;
            if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
            break;
          }
          state = BEGIN_VALUE;
          continue;
        case BEGIN_VALUE:
          if (isSpace(c)) break;
          if (c === 0x7b /* { */) {
            if (stack.push(OBJECT_KEY) > MAX_DEPTH) return fail('exceeded max depth');
            state = BEGIN_STRING_OR_EMPTY;
          } else if (c === 0x5b /* [ */) {
            if (stack.push(ARRAY_VALUE) > MAX_DEPTH) return fail('exceeded max depth');
            state = BEGIN_VALUE_OR_EMPTY;
          } else if (c === 0x22 /* " */) {
            state = IN_STRING;
          } else if (c === 0x2d /* - */) {
            state = NEG;
          } else if (c === 0x30) {
            state = ZERO;
          } else if (c >= 0x31 && c <= 0x39) {
            state = ONE;
          } else if (c === 0x74 || c === 0x66 || c === 0x6e /* t f n */) {
            literal = LITERAL_NAMES[String.fromCharCode(c)]!;
            literalPos = 1;
            state = LITERAL;
          } else {
            return fail('looking for beginning of value');
          }
          break;
        case BEGIN_STRING_OR_EMPTY:
          if (isSpace(c)) break;
          if (c === 0x7d /* } */) {
            stack.pop();
            state = END_VALUE;
            if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
            break;
          }
          state = BEGIN_STRING;
          continue;
        case BEGIN_STRING:
          if (isSpace(c)) break;
          if (c !== 0x22) return fail('looking for beginning of object key string');
          state = IN_STRING;
          break;
        case END_VALUE: {
          if (stack.length === 0) return { kind: 'value', start, end: i };
          if (isSpace(c)) break;
          const top = stack[stack.length - 1]!;
          if (top === OBJECT_KEY) {
            if (c !== 0x3a /* : */) return fail('after object key');
            stack[stack.length - 1] = OBJECT_VALUE;
            state = BEGIN_VALUE;
          } else if (top === OBJECT_VALUE) {
            if (c === 0x2c /* , */) {
              stack[stack.length - 1] = OBJECT_KEY;
              state = BEGIN_STRING;
            } else if (c === 0x7d) {
              stack.pop();
              if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
            } else {
              return fail('after object key:value pair');
            }
          } else {
            if (c === 0x2c) {
              state = BEGIN_VALUE;
            } else if (c === 0x5d) {
              stack.pop();
              if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
            } else {
              return fail('after array element');
            }
          }
          break;
        }
        case IN_STRING:
          if (c === 0x22) {
            state = END_VALUE;
            if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
          } else if (c === 0x5c /* \ */) {
            state = IN_STRING_ESC;
          } else if (c < 0x20) {
            return fail('in string literal');
          }
          break;
        case IN_STRING_ESC:
          if ('bfnrt\\/"'.includes(String.fromCharCode(c))) state = IN_STRING;
          else if (c === 0x75 /* u */) state = IN_STRING_ESC_U;
          else return fail('in string escape code');
          break;
        case IN_STRING_ESC_U:
        case IN_STRING_ESC_U + 1:
        case IN_STRING_ESC_U + 2:
        case IN_STRING_ESC_U + 3:
          if (!isHex(c)) return fail('in \\u hexadecimal character escape');
          state = state === IN_STRING_ESC_U + 3 ? IN_STRING : state + 1;
          break;
        case NEG:
          if (c === 0x30) state = ZERO;
          else if (c >= 0x31 && c <= 0x39) state = ONE;
          else return fail('in numeric literal');
          break;
        case ONE:
          if (isDigit(c)) break;
          state = ZERO;
          continue;
        case ZERO:
          if (c === 0x2e /* . */) state = DOT;
          else if (c === 0x65 || c === 0x45) state = E;
          else {
            state = END_VALUE;
            continue;
          }
          break;
        case DOT:
          if (!isDigit(c)) return fail('after decimal point in numeric literal');
          state = DOT0;
          break;
        case DOT0:
          if (isDigit(c)) break;
          if (c === 0x65 || c === 0x45) {
            state = E;
            break;
          }
          state = END_VALUE;
          continue;
        case E:
          if (c === 0x2b || c === 0x2d) {
            state = E_SIGN;
            break;
          }
          state = E_SIGN;
          continue;
        case E_SIGN:
          if (!isDigit(c)) return fail('in exponent of numeric literal');
          state = E0;
          break;
        case E0:
          if (isDigit(c)) break;
          state = END_VALUE;
          continue;
        case LITERAL:
          if (c !== literal.charCodeAt(literalPos)) return fail(`in literal ${literal} (expecting '${literal[literalPos]!}')`);
          if (++literalPos === literal.length) {
            state = END_VALUE;
            if (stack.length === 0) return { kind: 'value', start, end: i + 1 };
          }
          break;
      }
      break;
    }
  }
  if (!atEof) return { kind: 'incomplete' };
  // A top-level number ends with the input.
  if (stack.length === 0 && (state === ONE || state === ZERO || state === DOT0 || state === E0)) return { kind: 'value', start, end: n };
  return { kind: 'error', message: 'unexpected EOF' };
}
