/**
 * A wait registry keyed by request ID (etcd's pkg/wait): the proposer registers an ID and gets a
 * promise; whoever learns the outcome (the applier, a timeout, shutdown) triggers it once. A
 * trigger for an ID nobody waits on is a no-op, so late outcomes of timed-out requests are dropped.
 */
export class Wait<T> {
  private readonly waiters = new Map<bigint, (value: T) => void>();

  /** Number of IDs currently waited on. */
  get size(): number {
    return this.waiters.size;
  }

  /** Registers `id`; the promise resolves with the value of the first trigger. Throws if `id` is taken. */
  register(id: bigint): Promise<T> {
    if (this.waiters.has(id)) throw new Error(`wait: duplicate id ${id.toString(16)}`);
    return new Promise<T>((resolve) => {
      this.waiters.set(id, resolve);
    });
  }

  /** Resolves the waiter of `id` with `value` and forgets it. Returns whether one was waiting. */
  trigger(id: bigint, value: T): boolean {
    const resolve = this.waiters.get(id);
    if (resolve === undefined) return false;
    this.waiters.delete(id);
    resolve(value);
    return true;
  }

  /** Whether `id` is waited on. */
  isRegistered(id: bigint): boolean {
    return this.waiters.has(id);
  }

  /** Resolves every waiter with `value` (shutdown). */
  triggerAll(value: T): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const resolve of all) resolve(value);
  }
}
