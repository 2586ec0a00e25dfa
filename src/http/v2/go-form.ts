/**
 * URL-encoded forms parsed as Go's `url.ParseQuery` and `Request.ParseForm` do (Go 1.19, the
 * version etcd 3.4.23 is built with): `+` is a space, a bad `%` escape or a `;` in a pair is an
 * error (the first one is reported, parsing goes on), and body values come before query values.
 */

/** A parsed form: every value of every key, in order of appearance. */
export type GoForm = Map<string, string[]>;

/** Go's limit on a url-encoded body (maxFormSize, 10 MiB): one byte more is "http: POST too large". */
export const MAX_FORM_BYTES = 10 << 20;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Decodes one query component, or returns Go's error text. */
export function goQueryUnescape(s: string): { ok: true; value: string } | { ok: false; error: string } {
  if (!s.includes('%') && !s.includes('+')) return { ok: true, value: s };
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x25) {
      if (i + 2 >= raw.length || !isHex(raw[i + 1]!) || !isHex(raw[i + 2]!)) {
        return { ok: false, error: `invalid URL escape ${JSON.stringify(raw.subarray(i, Math.min(i + 3, raw.length)).toString('latin1'))}` };
      }
      bytes.push(parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else {
      bytes.push(c);
    }
  }
  return { ok: true, value: Buffer.from(bytes).toString('utf8') };
}

/** Adds the pairs of `query` to `form`; returns the first error (Go keeps parsing past it). */
export function parseGoQuery(query: string, form: GoForm): string | undefined {
  let err: string | undefined;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) {
      err ??= 'invalid semicolon separator in query';
      continue;
    }
    const eq = pair.indexOf('=');
    const k = goQueryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    if (!k.ok) {
      err ??= k.error;
      continue;
    }
    const v = goQueryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (!v.ok) {
      err ??= v.error;
      continue;
    }
    const list = form.get(k.value);
    if (list === undefined) form.set(k.value, [v.value]);
    else list.push(v.value);
  }
  return err;
}

/** Go's `FormValue`: the first value of `key`, or ''. */
export function formValue(form: GoForm, key: string): string {
  return form.get(key)?.[0] ?? '';
}
