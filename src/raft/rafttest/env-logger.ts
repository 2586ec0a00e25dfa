import type { RaftLogger } from '../config.js';
import type { EnvOutput } from './env-output.js';

/** Log levels of the interaction harness, lowest first; `none` silences the raft logger. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A RaftLogger that writes the core's log lines into the command output, prefixed with their
 * level (`INFO 1 became leader at term 1`), so golden files show what raft decided and why.
 */
export class EnvLogger implements RaftLogger {
  /** Lines below this level are discarded. */
  level: LogLevel = 'info';

  constructor(private readonly out: EnvOutput) {}

  /** Debug lines are formatted only when they would be printed. */
  get debugEnabled(): boolean {
    return this.level === 'debug';
  }

  debug(msg: string): void {
    this.write(0, 'DEBUG', msg);
  }

  info(msg: string): void {
    this.write(1, 'INFO', msg);
  }

  warn(msg: string): void {
    this.write(2, 'WARN', msg);
  }

  error(msg: string): void {
    this.write(3, 'ERROR', msg);
  }

  private write(rank: number, prefix: string, msg: string): void {
    if (rank >= LOG_LEVELS.indexOf(this.level)) this.out.line(`${prefix} ${msg}`);
  }
}
