/**
 * One etcd member as a real OS process: real etcd 3.4 or etcd-ts, started with etcd's own flags in
 * a fresh temporary folder, waited on until `GET /health` answers `{"health":"true"}`, and stopped,
 * killed, paused or restarted on the same data dir. Output goes to a log file beside the data dir
 * (never a pipe: a test blocked in a synchronous etcdctl call cannot drain a pipe, and a member
 * blocked on a full pipe would stall), and the tail of that log is put in every start-up error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ETCD_BIN, etcdTsEntry } from './binaries.js';
import { freePorts } from './free-port.js';
import { memberIdOf } from './member-id.js';
import { trackProcess } from './reaper.js';

/** Which implementation a member runs. */
export type MemberKind = 'etcd' | 'etcd-ts';

/** How to start a member; everything has a default fit for a single-member cluster. */
export interface MemberOptions {
  /** `--name`; default 'default'. */
  readonly name?: string;
  /** Client port on 127.0.0.1; allocated when missing. */
  readonly clientPort?: number;
  /** Peer port on 127.0.0.1; allocated when missing. */
  readonly peerPort?: number;
  /** `--initial-cluster`; default `<name>=<peerUrl>` (a single-member cluster). */
  readonly initialCluster?: string;
  /** `--initial-cluster-token`; default 'etcd-e2e'. With name and peer URL it fixes the IDs. */
  readonly initialClusterToken?: string;
  /** `--initial-cluster-state`; default 'new'. */
  readonly initialClusterState?: 'new' | 'existing';
  /** `--data-dir`; default a fresh folder under a new mkdtemp folder. */
  readonly dataDir?: string;
  /** More flags, appended after the standard ones. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for `/health`; default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Whether startMember waits for readiness; default true (clusters start all, then wait). */
  readonly waitReady?: boolean;
}

/** How a member process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const HEALTH_POLL_MS = 50;

/** The environment for a member: ours, without ETCD_* / ETCDCTL_* variables that would act as flags. */
function memberEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCD_') && !k.startsWith('ETCDCTL_')) env[k] = v;
  }
  return env;
}

/**
 * A running (or stopped) member process. Owns its temporary folder; `destroy()` stops the process
 * and removes the folder (kept when E2E_KEEP=1, for debugging).
 */
export class Member {
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The ID etcd derives for this member of a new cluster (see memberIdOf). */
  readonly expectedId: bigint;
  /** The full argument list given to the server (after the node script, for etcd-ts). */
  readonly args: readonly string[];
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  private lastExit: ExitStatus | undefined;
  private logOffset = 0;
  private paused = false;

  /**
   * Use startMember() rather than this. `workDir` is the member's own temporary folder (holding
   * `data/` unless a data dir is given, and `member.log`); the member owns and removes it.
   */
  constructor(
    readonly kind: MemberKind,
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly workDir: string,
    opts: MemberOptions,
  ) {
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
    this.dataDir = opts.dataDir ?? join(workDir, 'data');
    this.logFile = join(workDir, 'member.log');
    const token = opts.initialClusterToken ?? 'etcd-e2e';
    this.expectedId = memberIdOf([this.peerUrl], token);
    this.args = [
      `--name=${name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.clientUrl}`,
      `--advertise-client-urls=${this.clientUrl}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${opts.initialCluster ?? `${name}=${this.peerUrl}`}`,
      `--initial-cluster-token=${token}`,
      `--initial-cluster-state=${opts.initialClusterState ?? 'new'}`,
      ...(opts.extraArgs ?? []),
    ];
  }

  /** `host:port` of the client URL, as etcdctl's --endpoints takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** The process id while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether the process has been spawned and has not exited. */
  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  /** How the last run ended, or undefined while running (or never started). */
  get exitStatus(): ExitStatus | undefined {
    return this.lastExit;
  }

  /** Spawns the process (precondition: not running). Does not wait for readiness. */
  spawn(): void {
    if (this.running) throw new Error(`member ${this.name} is already running`);
    const fd = openSync(this.logFile, 'a');
    try {
      this.logOffset = statSync(this.logFile).size;
      writeSync(fd, `=== e2e harness: starting ${this.kind} ${this.name} ===\n`);
      const [command, args] =
        this.kind === 'etcd' ? [ETCD_BIN, this.args] : [process.execPath, [etcdTsEntry(), ...this.args]];
      const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: memberEnv(), cwd: this.workDir });
      this.child = child;
      this.lastExit = undefined;
      this.paused = false;
      this.exitedPromise = new Promise((resolveExit) => {
        child.once('error', (error) => {
          this.lastExit = { code: null, signal: null, error };
          resolveExit(this.lastExit);
        });
        child.once('exit', (code, signal) => {
          this.lastExit ??= { code, signal };
          resolveExit(this.lastExit);
        });
      });
      trackProcess(child);
    } finally {
      closeSync(fd);
    }
  }

  /** The last `lines` lines the current (or last) run wrote to stdout/stderr. */
  logTail(lines = 25): string {
    let text: string;
    try {
      text = readFileSync(this.logFile, 'utf8').slice(this.logOffset);
    } catch {
      return '(no log)';
    }
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private describeExit(): string {
    const e = this.lastExit;
    if (e === undefined) return 'running';
    if (e.error !== undefined) return `failed to spawn: ${e.error.message}`;
    return e.signal !== null ? `killed by ${e.signal}` : `exited with code ${e.code}`;
  }

  /**
   * Polls `GET <clientUrl>/health` until it answers `{"health":"true"}`. Throws, with the log
   * tail, when the process exits or `timeoutMs` passes.
   */
  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (true) {
      if (!this.running) {
        throw new Error(
          `${this.kind} member ${this.name} ${this.describeExit()} before it was ready\n--- log tail ---\n${this.logTail()}`,
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `${this.kind} member ${this.name} not ready after ${timeoutMs} ms (last /health: ${last})\n--- log tail ---\n${this.logTail()}`,
        );
      }
      try {
        const res = await fetch(`${this.clientUrl}/health`, {
          headers: { connection: 'close' },
          signal: AbortSignal.timeout(Math.max(1, Math.min(1000, remaining))),
        });
        const body = await res.text();
        last = `${res.status} ${body.trim()}`;
        if (res.ok && (JSON.parse(body) as { health?: unknown }).health === 'true') return;
      } catch (err) {
        last = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
      }
      await sleep(HEALTH_POLL_MS);
    }
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. Resolves once it exited. */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<ExitStatus | undefined> {
    if (!this.running) return this.lastExit;
    this.signal('SIGTERM');
    // A stopped process only acts on SIGTERM once continued.
    if (this.paused) this.sigcont();
    const exited = await Promise.race([
      this.exitedPromise.then(() => true),
      sleep(graceMs, false, { ref: false }),
    ]);
    if (!exited) this.signal('SIGKILL');
    return this.exitedPromise;
  }

  /** SIGKILL: a crash with no chance to flush. Resolves once the process exited. */
  async kill9(): Promise<ExitStatus | undefined> {
    this.signal('SIGKILL');
    return this.exitedPromise;
  }

  /** Freezes the process (SIGSTOP): it keeps its sockets but answers nothing. */
  sigstop(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** Resumes a process frozen by sigstop(). */
  sigcont(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** Stops (if running) and starts again on the same data dir and flags; waits for readiness. */
  async restart(readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    await this.stop();
    this.spawn();
    await this.waitReady(readyTimeoutMs);
  }

  /**
   * Kills the process and removes its temporary folder (unless E2E_KEEP=1). SIGKILL, not stop():
   * the data is thrown away, and members of a cluster stopped together can spend the whole grace
   * period trying to hand over leadership to each other.
   */
  async destroy(): Promise<void> {
    if (this.paused) this.sigcont();
    await this.kill9();
    if (process.env['E2E_KEEP'] !== '1') rmSync(this.workDir, { recursive: true, force: true });
  }
}

/**
 * Starts a member of `kind` in a fresh temporary folder and (unless `opts.waitReady` is false)
 * waits until it is healthy. On a start-up failure the process is killed and the error carries
 * the log tail.
 */
export async function startMember(kind: MemberKind, opts: MemberOptions = {}): Promise<Member> {
  const name = opts.name ?? 'default';
  let { clientPort, peerPort } = opts;
  if (clientPort === undefined || peerPort === undefined) {
    const [c, p] = await freePorts(2);
    clientPort ??= c!;
    peerPort ??= p!;
  }
  const workDir = mkdtempSync(join(tmpdir(), `e2e-${kind}-${name}-`));
  const member = new Member(kind, name, clientPort, peerPort, workDir, opts);
  member.spawn();
  if (opts.waitReady !== false) {
    try {
      await member.waitReady(opts.readyTimeoutMs);
    } catch (err) {
      await member.destroy();
      throw err;
    }
  }
  return member;
}
