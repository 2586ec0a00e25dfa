/**
 * The small language of scenario files. A case's command line is an etcdctl argument list, split
 * like a shell does: single quotes keep text literally (`''` is an empty argument), double quotes
 * allow `\"` and `\\`, a backslash outside quotes escapes the next character. (The golden-file
 * parser splits lines on whitespace, so runs of spaces inside quotes collapse to one.)
 *
 * A case's input lines are etcdctl's stdin, with three forms that the golden format cannot hold:
 *   .                     an empty line (etcdctl's `txn` separates its sections by empty lines)
 *   {{times N TEXT}}      N lines of TEXT, with `$i` replaced by 0..N-1 (e.g. 129 txn operations)
 *   {{bytes N C}}         the character C repeated N times, on one line (e.g. a value too large)
 */

/** Splits a command line into arguments, shell style (no variables, no globbing). */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t') {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      current += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      inWord = true;
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        current += line[i]!;
        i++;
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line[i + 1]!;
      inWord = true;
      i += 2;
    } else {
      current += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) args.push(current);
  return args;
}

const TIMES = /^\{\{times (\d+) (.*)\}\}$/;
const BYTES = /^\{\{bytes (\d+) (.)\}\}$/;

/** Expands a case's input lines into etcdctl's stdin (every line newline-terminated). */
export function expandInput(input: string): string {
  if (input === '') return '';
  const out: string[] = [];
  for (const line of input.split('\n')) {
    const times = TIMES.exec(line);
    const bytes = BYTES.exec(line);
    if (line === '.') out.push('');
    else if (times !== null) {
      const n = Number(times[1]);
      for (let i = 0; i < n; i++) out.push(times[2]!.replaceAll('$i', String(i)));
    } else if (bytes !== null) out.push(bytes[2]!.repeat(Number(bytes[1])));
    else out.push(line);
  }
  return out.join('\n') + '\n';
}
