/**
 * Runs a callback on the microtask queue without what Node's `queueMicrotask` adds to every call:
 * an AsyncResource and an async-context scope around the callback (about 6% of a member's CPU
 * under watch load). Nothing here reads async context. A throwing callback is an unhandled
 * rejection, which stops the process as an uncaught exception would.
 */
const resolved = Promise.resolve();

/** Calls `fn` once the current task and the microtasks queued before this one have run. */
export function onMicrotask(fn: () => void): void {
  void resolved.then(fn);
}
