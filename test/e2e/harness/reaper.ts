/**
 * Makes sure member processes never outlive the test run. Three layers:
 * - tests stop their members in `after` hooks;
 * - on this process's normal exit, every member still running is SIGKILLed;
 * - a small guard process holds a pipe from this process; when this process dies in any way
 *   (even SIGKILL from a test runner's timeout), the pipe reaches end of file and the guard
 *   SIGKILLs every member it was told about. It checks each process's start time from /proc first
 *   so a recycled pid is never killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

// The guard's whole program: CommonJS for `node -e`. Reads "pid" / "-pid" lines from stdin.
const GUARD_PROGRAM = `
const fs = require('fs');
const tracked = new Map();
function startTime(pid) {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  } catch { return undefined; }
}
function reap() {
  for (const [pid, started] of tracked) {
    if (started !== undefined && startTime(pid) === started) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch {}
    }
  }
  process.exit(0);
}
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.startsWith('-')) tracked.delete(line.slice(1));
    else if (line !== '') tracked.set(line, startTime(line));
  }
});
process.stdin.on('end', reap);
process.on('SIGTERM', reap);
process.on('SIGINT', reap);
`;

const live = new Map<number, ChildProcess>();
let guardInput: Writable | undefined;
let exitHookInstalled = false;

function guard(): Writable | undefined {
  if (guardInput !== undefined) return guardInput;
  const child = spawn(process.execPath, ['-e', GUARD_PROGRAM], { stdio: ['pipe', 'ignore', 'ignore'] });
  // The guard must not keep this process alive: unref the process and its pipe.
  child.unref();
  const stdin = child.stdin!;
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => {
    guardInput = undefined;
  });
  guardInput = stdin;
  return guardInput;
}

function killAllLive(): void {
  for (const child of live.values()) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Registers a freshly spawned member process so it is killed if the test run ends first. */
export function trackProcess(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!exitHookInstalled) {
    process.on('exit', killAllLive);
    exitHookInstalled = true;
  }
  live.set(pid, child);
  guard()?.write(`${pid}\n`);
  child.once('exit', () => {
    live.delete(pid);
    guardInput?.write(`-${pid}\n`);
  });
}

/** How many tracked processes are still running (tests assert it drops to zero). */
export function liveProcessCount(): number {
  return live.size;
}
