/**
 * Go's `time.Duration` text format, which etcd uses for duration flags
 * (`--grpc-keepalive-interval 2h`) and prints in its startup log (`"election-timeout":"1s"`).
 * Durations are carried as nanoseconds in a `number`: exact up to about 104 days, far beyond
 * any setting a member uses.
 */

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  '\u00b5s': 1e3, // micro sign
  '\u03bcs': 1e3, // Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** The outcome of {@link parseGoDuration}: nanoseconds, or Go's error text. */
export type DurationParse = { ok: true; ns: number } | { ok: false; error: string };

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/**
 * Parses a duration the way Go's `time.ParseDuration` does: an optional sign, then one or more
 * `<decimal><unit>` terms (`1h30m`, `1.5s`, `300ms`); the bare `0` needs no unit. Errors carry
 * Go's wording (`time: missing unit in duration "5"`).
 */
export function parseGoDuration(text: string): DurationParse {
  const quoted = JSON.stringify(text);
  const invalid = { ok: false as const, error: `time: invalid duration ${quoted}` };
  let s = text;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, ns: 0 };
  if (s === '') return invalid;
  let total = 0;
  while (s !== '') {
    // The leading decimal: digits, optionally a fraction; at least one digit overall.
    let i = 0;
    while (i < s.length && isDigit(s[i]!)) i++;
    const whole = s.slice(0, i);
    let frac = '';
    if (i < s.length && s[i] === '.') {
      const start = ++i;
      while (i < s.length && isDigit(s[i]!)) i++;
      frac = s.slice(start, i);
    }
    if (whole === '' && frac === '') return invalid;
    s = s.slice(i);
    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s[u]!)) u++;
    if (u === 0) return { ok: false, error: `time: missing unit in duration ${quoted}` };
    const unit = s.slice(0, u);
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) {
      return { ok: false, error: `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}` };
    }
    s = s.slice(u);
    total += Number(whole === '' ? 0 : whole) * scale + (frac === '' ? 0 : Math.floor(Number(`0.${frac}`) * scale));
  }
  if (!Number.isSafeInteger(total)) return invalid;
  return { ok: true, ns: negative ? -total : total };
}

/** Formats a fraction of `digits` decimal places, dropping trailing zeros (and the dot). */
function fraction(value: number, digits: number): string {
  if (value === 0) return '';
  const text = String(value).padStart(digits, '0').replace(/0+$/, '');
  return `.${text}`;
}

/**
 * Formats nanoseconds as Go's `Duration.String()` does: `0s`, `5ns`, `1.5µs`, `100ms`, `1s`,
 * `1m30s`, `2h0m0s`.
 */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const u = Math.abs(Math.trunc(ns));
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${Math.floor(u / 1e3)}${fraction(u % 1e3, 3)}\u00b5s`;
  if (u < 1e9) return `${sign}${Math.floor(u / 1e6)}${fraction(u % 1e6, 6)}ms`;
  let seconds = Math.floor(u / 1e9);
  let out = `${seconds % 60}${fraction(u % 1e9, 9)}s`;
  seconds = Math.floor(seconds / 60);
  if (seconds > 0) {
    out = `${seconds % 60}m${out}`;
    const hours = Math.floor(seconds / 60);
    if (hours > 0) out = `${hours}h${out}`;
  }
  return sign + out;
}

/** Formats milliseconds as a Go duration (`100` → `100ms`, `1000` → `1s`). */
export function formatMs(ms: number): string {
  return formatGoDuration(Math.round(ms * 1e6));
}
