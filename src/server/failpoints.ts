/**
 * Named failpoints on the host loop, for crash tests (etcd's gofail points, by name): each step
 * of the loop calls `hit(name)`, which does nothing unless that point is armed.
 *
 * Armed from the environment as `ETCDTS_FAILPOINT=<name>:<action>[@<n>][,...]` (not `ETCD_*`: etcd
 * treats those as flags), or by tests through `arm`. Actions: `exit` (process.exit(97)), `kill`
 * (SIGKILL to itself: no exit handlers, no flushing), `panic` (throw, which stops the member).
 * `@n` fires on the n-th hit instead of the first. Points are listed in FAILPOINT_NAMES.
 */

/** Every failpoint of the host loop, in loop order. */
export const FAILPOINT_NAMES = [
  /** A Ready with entries or hard state, before the WAL write. */
  'before-save',
  /** After the WAL write (and fsync) of a Ready, before the entries reach raft's storage. */
  'after-save',
  /** Before a Ready's committed entries are applied. */
  'before-apply',
  /** After applying to the store, before the backend transaction of that batch commits. */
  'before-commit',
  /** After the backend transaction of an apply batch committed. */
  'after-commit',
  /** Before the raft snapshot file is written. */
  'before-save-snap',
  /** After the snapshot file and its WAL marker are durable, before WAL segments are released. */
  'after-save-snap',
  /** After old WAL segments and snapshot files were deleted. */
  'after-wal-release',
] as const;

/** A failpoint name. */
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/** What an armed failpoint does; a function runs in place (tests). */
export type FailpointAction = 'exit' | 'kill' | 'panic' | (() => void);

/** The exit code of the `exit` action. */
export const FAILPOINT_EXIT_CODE = 97;

/** The environment variable that arms failpoints. */
export const FAILPOINT_ENV = 'ETCDTS_FAILPOINT';

interface Armed {
  action: FailpointAction;
  /** Hits left before it fires (1: the next one). */
  countdown: number;
}

/** The failpoints of one member. */
export class Failpoints {
  private readonly armed = new Map<string, Armed>();

  /** Parses a spec like `after-save:kill@3,before-commit:exit`; throws on an unknown name or action. */
  static parse(spec: string | undefined): Failpoints {
    const fp = new Failpoints();
    if (spec === undefined || spec.trim() === '') return fp;
    for (const item of spec.split(',')) {
      const m = /^\s*([a-z-]+):(exit|kill|panic)(?:@(\d+))?\s*$/.exec(item);
      if (m === null) throw new Error(`${FAILPOINT_ENV}: cannot parse ${JSON.stringify(item)} (want <name>:<exit|kill|panic>[@n])`);
      const name = m[1]!;
      if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) {
        throw new Error(`${FAILPOINT_ENV}: unknown failpoint ${JSON.stringify(name)} (known: ${FAILPOINT_NAMES.join(', ')})`);
      }
      fp.arm(name as FailpointName, m[2] as FailpointAction, m[3] === undefined ? 1 : Number(m[3]));
    }
    return fp;
  }

  /** Arms `name` to run `action` on its `nth` hit from now (default the next). */
  arm(name: FailpointName, action: FailpointAction, nth = 1): void {
    this.armed.set(name, { action, countdown: Math.max(1, nth) });
  }

  /** Disarms `name`. */
  disarm(name: FailpointName): void {
    this.armed.delete(name);
  }

  /** Whether `name` is armed (to skip work only a failpoint needs). */
  isArmed(name: FailpointName): boolean {
    return this.armed.has(name);
  }

  /** Called by the loop at `name`: fires the action when due. */
  hit(name: FailpointName): void {
    if (this.armed.size === 0) return;
    const a = this.armed.get(name);
    if (a === undefined || --a.countdown > 0) return;
    this.armed.delete(name);
    const action = a.action;
    if (typeof action === 'function') {
      action();
      return;
    }
    process.stderr.write(`failpoint ${name}: ${action}\n`);
    switch (action) {
      case 'exit':
        process.exit(FAILPOINT_EXIT_CODE);
        break;
      case 'kill':
        process.kill(process.pid, 'SIGKILL');
        break;
      case 'panic':
        throw new Error(`failpoint ${name} panicked`);
    }
  }
}
