/**
 * Wall-clock time as a parameter. The deterministic core (lease, auth) never reads the clock
 * itself: it is handed a `Clock`, the system clock in a running server, a `ManualClock` in tests
 * and the simulation, so the same inputs give the same outputs.
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the Unix epoch; never goes backwards for one Clock. */
  now(): number;
}

/** The host's clock (`Date.now()`), for the server's wiring; never used inside the core. */
export const systemClock: Clock = {
  now: () => Date.now(),
};

/** A clock that moves only when told to: for tests and the seeded simulation. */
export class ManualClock implements Clock {
  private ms: number;

  /** Starts at `startMs` milliseconds since the epoch (default 0). */
  constructor(startMs = 0) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  /** Moves the clock forward by `ms` (>= 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`clock: cannot move back by ${ms} ms`);
    this.ms += ms;
  }

  /** Sets the clock to `ms`, which must not be earlier than now. */
  set(ms: number): void {
    if (ms < this.ms) throw new RangeError(`clock: cannot move back from ${this.ms} to ${ms}`);
    this.ms = ms;
  }
}
