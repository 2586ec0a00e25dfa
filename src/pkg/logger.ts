/**
 * A structured logger writing one JSON object per line, in the shape of etcd's zap output:
 * `{"level":"info","ts":"2026-01-02T03:04:05.678Z","caller":"config/parse-config.js:12","msg":"...",...fields}`.
 * A disabled level costs one comparison; fields bound to a child logger are encoded once.
 */

import { openSync, writeSync } from 'node:fs';

/** Levels in increasing severity, named as zap names them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

/** Structured fields: names to JSON-able values; bigints print as plain numbers, Errors as their message. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Receives each finished line, without the trailing newline. */
export type LogSink = (line: string) => void;

/** A leveled, structured logger. */
export interface Logger {
  /** The lowest level written. */
  readonly level: LogLevel;
  /** Whether `level` would be written: check before building costly fields. */
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Logs at panic level; the caller decides what to stop. */
  panic(msg: string, fields?: LogFields): void;
  /** Logs at fatal level; the caller decides to exit. */
  fatal(msg: string, fields?: LogFields): void;
  /** A logger writing to the same sink with `fields` added to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Where lines go (default: standard error). */
  sink?: LogSink;
  /** Clock for `ts` (default: the system clock). */
  now?: () => Date;
  /** Report the calling file and line as `caller`, as zap does (default true). */
  caller?: boolean;
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };

/** Whether `text` names a level. */
export function isLogLevel(text: string): text is LogLevel {
  return Object.hasOwn(SEVERITY, text);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * Formats a time as zap's ISO 8601 encoder does: local time with milliseconds and the zone as
 * `Z` for UTC or `+hhmm`.
 */
export function formatLogTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

function encodeValue(value: unknown): string {
  // Top-level bigints print as JSON numbers (like zap's uint64); nested ones as strings.
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return JSON.stringify(value.message);
  const text = JSON.stringify(value, replacer);
  return text === undefined ? 'null' : text;
}

/** Encodes fields as `,"k":v,...` (empty when none). */
function encodeFields(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const key in fields) out += `,${JSON.stringify(key)}:${encodeValue(fields[key])}`;
  return out;
}

/** The `file:line` of the first stack frame outside this module, as `dir/file:line`. */
function callerOf(skip: (...args: never[]) => unknown): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, skip);
  Error.stackTraceLimit = limit;
  const frame = holder.stack?.split('\n')[1] ?? '';
  const m = /([^/\\ (]+[/\\][^/\\ (]+):(\d+):\d+\)?$/.exec(frame);
  return m === null ? 'unknown' : `${m[1]!.replaceAll('\\', '/')}:${m[2]}`;
}

class JsonLogger implements Logger {
  private readonly min: number;

  constructor(
    readonly level: LogLevel,
    private readonly sink: LogSink,
    private readonly now: () => Date,
    private readonly withCaller: boolean,
    private readonly bound: string,
  ) {
    this.min = SEVERITY[level];
  }

  enabled(level: LogLevel): boolean {
    return SEVERITY[level] >= this.min;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.min <= 0) this.write('debug', msg, fields, this.debug);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.min <= 1) this.write('info', msg, fields, this.info);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.min <= 2) this.write('warn', msg, fields, this.warn);
  }

  error(msg: string, fields?: LogFields): void {
    if (this.min <= 3) this.write('error', msg, fields, this.error);
  }

  panic(msg: string, fields?: LogFields): void {
    if (this.min <= 4) this.write('panic', msg, fields, this.panic);
  }

  fatal(msg: string, fields?: LogFields): void {
    this.write('fatal', msg, fields, this.fatal);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.level, this.sink, this.now, this.withCaller, this.bound + encodeFields(fields));
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined, method: (...args: never[]) => unknown): void {
    const caller = this.withCaller ? `,"caller":${JSON.stringify(callerOf(method))}` : '';
    this.sink(`{"level":"${level}","ts":"${formatLogTime(this.now())}"${caller},"msg":${JSON.stringify(msg)}${this.bound}${encodeFields(fields)}}`);
  }
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new JsonLogger(
    options.level ?? 'info',
    options.sink ?? stderrSink,
    options.now ?? (() => new Date()),
    options.caller ?? true,
    '',
  );
}

/** Writes lines to standard error (synchronous for files and pipes on POSIX, so lines before an exit are kept). */
export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

/**
 * A sink for etcd's `--log-outputs` targets: `default` and `stderr` are standard error, `stdout`
 * is standard output, anything else a file appended to. Several targets each get every line.
 */
export function sinkForOutputs(outputs: readonly string[]): LogSink {
  const targets = [...new Set(outputs.map((o) => (o === 'default' ? 'stderr' : o)))];
  const writers = targets.map((t): ((text: string) => void) => {
    if (t === 'stderr') return (text) => process.stderr.write(text);
    if (t === 'stdout') return (text) => process.stdout.write(text);
    const fd = openSync(t, 'a');
    return (text) => writeSync(fd, text);
  });
  if (writers.length === 1) {
    const only = writers[0]!;
    return (line) => only(`${line}\n`);
  }
  return (line) => {
    const text = `${line}\n`;
    for (const w of writers) w(text);
  };
}

/** A logger that writes nothing. */
export const nopLogger: Logger = createLogger({ level: 'fatal', sink: () => {}, caller: false });
