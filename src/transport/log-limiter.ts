/**
 * Lets a repeated log line through at most once per interval per key, and counts what it held
 * back, so a peer that stays down or a queue that stays full does not flood the log.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  /**
   * @param intervalMs minimum time between two lines of one key, in ms
   * @param now clock in ms
   */
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Whether a line for `key` may be written now. Returns the number of lines held back since the
   * last one written (0 or more), or -1 when this one must be held back too.
   */
  allow(key: string): number {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry === undefined) {
      this.last.set(key, { at: t, suppressed: 0 });
      return 0;
    }
    if (t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return -1;
    }
    const held = entry.suppressed;
    entry.at = t;
    entry.suppressed = 0;
    return held;
  }

  /** Forgets `key` (a removed peer), so its next line is written at once. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
