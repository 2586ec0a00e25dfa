/**
 * Exponential backoff with jitter for redialing a peer: each delay doubles up to a cap, and is
 * drawn from the upper half of the current step ("equal jitter") so members that lost each other
 * at the same moment do not redial in lockstep.
 */
export class Backoff {
  /** The current step before jitter, in ms. invariant: initialMs <= step <= maxMs. */
  private step: number;

  /**
   * @param initialMs first step, in ms (> 0)
   * @param maxMs cap of a step, in ms (>= initialMs)
   * @param rand uniform source in [0, 1); jitter only, so Math.random is fine
   */
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly rand: () => number,
  ) {
    this.step = initialMs;
  }

  /** The next delay in ms, then doubles the step. */
  next(): number {
    const step = this.step;
    this.step = Math.min(this.maxMs, step * 2);
    return Math.round(step / 2 + this.rand() * (step / 2));
  }

  /** Starts over from the first step (after a successful connection). */
  reset(): void {
    this.step = this.initialMs;
  }
}
