/**
 * Data-driven golden tests: a file holds test cases, each a command line, optional input lines,
 * a `----` line and the expected output. Cases are separated by a blank line. Output that itself
 * holds blank lines is written between `----\n----` and `----\n----`.
 *
 *   campaign 1
 *   ----
 *   1 became candidate at term 1
 *
 * Run with REWRITE=1 in the environment to rewrite the files with the actual outputs for review.
 */
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One parsed case. `args` maps `key=value` words of the command line; bare words map to ''. */
export interface TestCase {
  readonly pos: string;
  readonly cmd: string;
  readonly cmdArgs: readonly string[];
  readonly args: ReadonlyMap<string, string>;
  readonly input: string;
  readonly expected: string;
}

interface Parsed {
  cases: TestCase[];
  /** Line ranges of each case's expected output, for rewriting. */
  lines: string[];
  spans: { start: number; end: number }[];
}

function parseArgs(words: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) m.set(w, '');
    else m.set(w.slice(0, eq), w.slice(eq + 1));
  }
  return m;
}

function parse(file: string, text: string): Parsed {
  const lines = text.split('\n');
  const cases: TestCase[] = [];
  const spans: { start: number; end: number }[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const pos = `${file}:${i + 1}`;
    const words = line.trim().split(/\s+/);
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') {
      if (lines[i]!.trim() === '' ) throw new Error(`${pos}: command without ---- separator`);
      input.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) throw new Error(`${pos}: command without ---- separator`);
    i++; // skip ----
    const start = i;
    const out: string[] = [];
    if (lines[i] === '----') {
      // Long form: ----\n----\n<output with blank lines>\n----\n----
      i++;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) out.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`${pos}: unterminated ----/---- output block`);
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    }
    spans.push({ start, end: i });
    cases.push({
      pos,
      cmd: words[0]!,
      cmdArgs: words.slice(1),
      args: parseArgs(words.slice(1)),
      input: input.join('\n'),
      expected: out.length > 0 ? out.join('\n') + '\n' : '',
    });
  }
  return { cases, lines, spans };
}

function formatOutput(actual: string): string[] {
  const body = actual.endsWith('\n') ? actual.slice(0, -1) : actual;
  if (body === '') return [];
  const outLines = body.split('\n');
  if (outLines.some((l) => l.trim() === '')) return ['----', ...outLines, '----', '----'];
  return outLines;
}

/**
 * Runs every case of `file` through `run` (which returns the actual output) and calls `onMismatch`
 * for each difference. With REWRITE=1 the file is rewritten instead.
 */
export function runDataDrivenFile(
  file: string,
  run: (tc: TestCase) => string,
  onMismatch: (tc: TestCase, actual: string) => void,
): void {
  const parsed = parse(file, readFileSync(file, 'utf8'));
  const rewrite = process.env['REWRITE'] === '1';
  const replacements: { start: number; end: number; lines: string[] }[] = [];
  parsed.cases.forEach((tc, idx) => {
    let actual = run(tc);
    if (actual !== '' && !actual.endsWith('\n')) actual += '\n';
    if (rewrite) replacements.push({ ...parsed.spans[idx]!, lines: formatOutput(actual) });
    else if (actual !== tc.expected) onMismatch(tc, actual);
  });
  if (rewrite) {
    const lines = parsed.lines.slice();
    for (const r of replacements.reverse()) lines.splice(r.start, r.end - r.start, ...r.lines);
    writeFileSync(file, lines.join('\n'));
  }
}

/**
 * The source folder of a compiled test: tests run from dist/, their testdata lives beside the
 * sources. Pass `import.meta.url`; returns the matching folder under the project root.
 */
export function sourceDirOf(metaUrl: string): string {
  const dir = dirname(fileURLToPath(metaUrl));
  const marker = `${sep}dist${sep}`;
  const at = dir.lastIndexOf(marker);
  return at < 0 ? dir : dir.slice(0, at) + sep + dir.slice(at + marker.length);
}

/** The `*.txt` files of a testdata folder, sorted. */
export function testdataFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
}
