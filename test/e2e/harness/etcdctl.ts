/**
 * Runs the real etcdctl (API v3) against some endpoints. The async form is for ordinary tests;
 * the sync form serves the golden-file runner, whose callback is synchronous (the server is a
 * separate process, so blocking this one does not stall it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { ETCDCTL_BIN } from './binaries.js';

/** What etcdctl did. `code` is -1 when it was killed for exceeding the timeout. */
export interface EtcdctlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as bytes, for `-w protobuf`. */
  readonly stdoutBytes: Buffer;
  readonly timedOut: boolean;
}

/** Options of one etcdctl run. */
export interface EtcdctlOptions {
  /** Extra environment variables (ETCDCTL_API=3 is always set). */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes to write to etcdctl's stdin (then it is closed). */
  readonly input?: string | Buffer;
  /** Kill etcdctl after this long; default 20 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

function ctlEnv(extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCDCTL_')) env[k] = v;
  }
  return { ...env, ETCDCTL_API: '3', ...extra };
}

function ctlArgs(endpoints: string | readonly string[], args: readonly string[]): string[] {
  const list = typeof endpoints === 'string' ? endpoints : endpoints.join(',');
  return [`--endpoints=${list}`, ...args];
}

/** Runs `etcdctl --endpoints=<endpoints> <args...>` and resolves with its exit code and output. */
export function etcdctl(
  endpoints: string | readonly string[],
  args: readonly string[],
  opts: EtcdctlOptions = {},
): Promise<EtcdctlResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(ETCDCTL_BIN, ctlArgs(endpoints, args), {
      env: ctlEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolveRun({
        code: timedOut ? -1 : (code ?? -1),
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        timedOut,
      });
    });
    // etcdctl may exit without reading its stdin; that is not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** The synchronous form of etcdctl(), for synchronous callers such as golden-file runners. */
export function etcdctlSync(
  endpoints: string | readonly string[],
  args: readonly string[],
  opts: EtcdctlOptions = {},
): EtcdctlResult {
  const r = spawnSync(ETCDCTL_BIN, ctlArgs(endpoints, args), {
    env: ctlEnv(opts.env),
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  const timedOut = r.error !== undefined;
  const stdoutBytes = r.stdout ?? Buffer.alloc(0);
  return {
    code: timedOut ? -1 : (r.status ?? -1),
    stdout: stdoutBytes.toString('utf8'),
    stderr: (r.stderr ?? Buffer.alloc(0)).toString('utf8'),
    stdoutBytes,
    timedOut,
  };
}
