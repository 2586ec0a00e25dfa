/**
 * A seeded pseudo-random source, so the deterministic core replays exactly from a seed.
 * The algorithm is mulberry32: small, fast and good enough for timeouts and simulations.
 */
export interface Rand {
  /** A uniform integer in [0, n). Precondition: n is a positive safe integer. */
  intn(n: number): number;
  /** A uniform float in [0, 1). */
  float(): number;
}

/** Creates a Rand whose sequence is fully determined by `seed` (any 32-bit integer). */
export function seededRand(seed: number): Rand {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    intn: (n) => Math.floor(next() * n),
    float: next,
  };
}
