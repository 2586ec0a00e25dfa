/** Go's `time.Duration.String()` for a non-negative duration in nanoseconds ("2m55.46836995s", "1.5ms"). */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  if (ns < 1_000_000_000n) {
    const [unit, scale] = ns < 1000n ? ['ns', 1n] : ns < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    return `${fraction(ns, scale)}${unit}`;
  }
  const h = ns / 3_600_000_000_000n;
  const m = (ns / 60_000_000_000n) % 60n;
  const s = fraction(ns % 60_000_000_000n, 1_000_000_000n);
  if (h > 0n) return `${h}h${m}m${s}s`;
  if (m > 0n) return `${m}m${s}s`;
  return `${s}s`;
}

/** `v / scale` with the remainder as decimals, trailing zeros dropped. */
function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  const rest = v % scale;
  if (rest === 0n) return whole.toString();
  const digits = scale.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}
