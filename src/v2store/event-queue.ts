/**
 * A fixed-capacity ring of events: inserting into a full ring drops the oldest (etcd's
 * eventQueue). Field names follow etcd's, as its store snapshot writes them.
 */
import type { V2Event } from './event.js';

/** The ring behind the event history. */
export class EventQueue {
  /** Slots; undefined where nothing was ever written. */
  readonly events: (V2Event | undefined)[];
  /** Number of events held; invariant: 0 <= size <= capacity. */
  size = 0;
  /** Slot of the oldest event. */
  front = 0;
  /** Slot the next event goes to. */
  back = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`event queue: capacity ${capacity} must be at least 1`);
    this.events = new Array<V2Event | undefined>(capacity).fill(undefined);
  }

  /** Appends `e`, dropping the oldest event when full. */
  insert(e: V2Event): void {
    this.events[this.back] = e;
    this.back = (this.back + 1) % this.capacity;
    if (this.size === this.capacity) this.front = (this.front + 1) % this.capacity;
    else this.size++;
  }
}
