/**
 * Prints protobuf bytes without their schema, so `-w protobuf` outputs can be recorded and read:
 * one field a line as `<field number>: <value>`, nested messages indented in braces. A
 * length-delimited field is shown as a quoted string when it is printable text, as a nested
 * message when it parses as one, else as hex. Lengths and varint widths are not shown, so two
 * encodings that carry the same values (e.g. IDs whose varints differ in width) print the same.
 */

interface Field {
  readonly num: number;
  readonly text: string | readonly Field[];
}

function isPrintableText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  // Control characters (newline included) make the bytes ambiguous with a message's tags.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

function readVarint(bytes: Uint8Array, at: number): [bigint, number] | undefined {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && shift < 70n; i++) {
    value |= BigInt(bytes[i]! & 0x7f) << shift;
    if ((bytes[i]! & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
  return undefined;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Parses `bytes` as a message, or returns undefined when they are not a well-formed one. */
function parseMessage(bytes: Uint8Array, nameVarint: (v: bigint) => string | undefined): Field[] | undefined {
  const fields: Field[] = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    if (tag === undefined) return undefined;
    const [key, afterTag] = tag;
    const num = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (num === 0) return undefined;
    at = afterTag;
    if (wireType === 0) {
      const v = readVarint(bytes, at);
      if (v === undefined) return undefined;
      fields.push({ num, text: nameVarint(v[0]) ?? v[0].toString() });
      at = v[1];
    } else if (wireType === 1 || wireType === 5) {
      const width = wireType === 1 ? 8 : 4;
      if (at + width > bytes.length) return undefined;
      fields.push({ num, text: `fixed${width * 8}:${hex(bytes.subarray(at, at + width))}` });
      at += width;
    } else if (wireType === 2) {
      const len = readVarint(bytes, at);
      if (len === undefined || len[1] + Number(len[0]) > bytes.length) return undefined;
      const body = bytes.subarray(len[1], len[1] + Number(len[0]));
      at = len[1] + Number(len[0]);
      if (isPrintableText(body)) fields.push({ num, text: JSON.stringify(new TextDecoder().decode(body)) });
      else fields.push({ num, text: parseMessage(body, nameVarint) ?? `bytes:${hex(body)}` });
    } else return undefined;
  }
  return fields;
}

function render(fields: readonly Field[], indent: string, out: string[]): void {
  for (const f of fields) {
    if (typeof f.text === 'string') out.push(`${indent}${f.num}: ${f.text}`);
    else {
      out.push(`${indent}${f.num} {`);
      render(f.text, indent + '  ', out);
      out.push(`${indent}}`);
    }
  }
}

/**
 * The text form of a protobuf message (empty for no bytes). `nameVarint` may name a varint value
 * (e.g. a predicted member ID); bytes that are not a message are printed as hex.
 */
export function protobufToText(bytes: Uint8Array, nameVarint: (v: bigint) => string | undefined = () => undefined): string {
  if (bytes.length === 0) return '';
  const fields = parseMessage(bytes, nameVarint);
  if (fields === undefined) return `not a protobuf message: ${hex(bytes)}\n`;
  const out: string[] = [];
  render(fields, '', out);
  return out.join('\n') + '\n';
}
