/**
 * Deadlines of waiting proposals. Every proposal waits the same request timeout, so deadlines
 * arrive in the order they were added: a FIFO checked by one coarse timer does the work of a
 * timer per request at a fraction of the cost.
 */

/** Expires waits after a fixed timeout. */
export class ProposalTimeouts {
  private ids: bigint[] = [];
  private deadlines: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `timeoutMs`: how long each proposal may wait; `onExpire(id)` is called for each expired
   * entry (it ignores IDs no longer waited on); checks run every `checkMs`.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly onExpire: (id: bigint) => void,
    private readonly checkMs = 50,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts the deadline for `id` now. */
  add(id: bigint): void {
    this.ids.push(id);
    this.deadlines.push(this.now() + this.timeoutMs);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.expire(), this.checkMs);
      this.timer.unref();
    }
  }

  private expire(): void {
    const now = this.now();
    while (this.head < this.ids.length && this.deadlines[this.head]! <= now) {
      const id = this.ids[this.head]!;
      this.head++;
      this.onExpire(id);
    }
    if (this.head === this.ids.length) {
      this.ids = [];
      this.deadlines = [];
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    } else if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
  }

  /** Stops checking (shutdown). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
