/**
 * Turns one etcdctl run into the text a scenario file records, normalized so that two runs that
 * behave the same print the same text. What is normalized, and why each one may legitimately
 * differ between real etcd and etcd-ts (or between two runs of real etcd):
 *
 * - Ports: each scenario picks free ports, so `127.0.0.1:<port>` becomes `<client-port>` /
 *   `<peer-port>`. Both implementations of one scenario run on the same ports.
 * - Member and cluster IDs are NOT masked blindly: both implementations start with the same name,
 *   peer URL and cluster token, so etcd's derivation (see memberIdOf) fixes them. Only the exact
 *   predicted values become `<member-id>` / `<cluster-id>`; any other ID stays visible and fails
 *   the comparison.
 * - Revisions, raft terms, counts, values and error texts are compared exactly.
 * - `endpoint status`: the server version (etcd-ts may report its own), the database size (bbolt
 *   and lmdb lay pages out differently) and the raft index / applied index (they count internal
 *   entries such as the member-attribute and cluster-version proposals each server makes at
 *   start-up, which are not part of the KV contract) are masked. The raft term and the KV revision
 *   in the header stay exact.
 * - `endpoint health`: the time the health proposal took.
 * - Tables (`-w table`): cell padding and border widths are computed by etcdctl from cell widths,
 *   which a masked cell would leave behind, so cells are trimmed and borders shortened.
 * - etcdctl's client-side warning logs on stderr (JSON lines from the retry interceptor) lose their
 *   timestamp, source line and per-process client UUID; their level, message, attempt and the
 *   gRPC status code and text stay.
 * - `-w protobuf` prints raw bytes: they are decoded without a schema (see protobuf-text.ts), with
 *   the predicted IDs named.
 */
import type { EtcdctlResult } from '../harness/etcdctl.js';
import { protobufToText } from './protobuf-text.js';

/** What the normalizer needs to know about the member the output came from. */
export interface NormalizeContext {
  readonly clientPort: number;
  readonly peerPort: number;
  readonly memberId: bigint;
  readonly clusterId: bigint;
}

const MEMBER = '<member-id>';
const CLUSTER = '<cluster-id>';
const MASK = '<masked>';

/** The output format asked for by `-w X`, `-w=X`, `--write-out X` or `--write-out=X`. */
export function writeOutFormat(args: readonly string[]): string {
  let format = 'simple';
  args.forEach((a, i) => {
    if (a === '-w' || a === '--write-out') format = args[i + 1] ?? format;
    else if (a.startsWith('-w=') || a.startsWith('--write-out=')) format = a.slice(a.indexOf('=') + 1);
  });
  return format;
}

/** The command words (e.g. ['endpoint', 'status']): leading arguments that are not flags. */
function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i]!;
    if (a === '-w' || a === '--write-out') i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}

function replaceAllWords(text: string, word: string, by: string): string {
  return text.replace(new RegExp(`\\b${word}\\b`, 'g'), by);
}

function replaceEndpointsAndIds(text: string, ctx: NormalizeContext): string {
  let t = text
    .replace(new RegExp(`127\\.0\\.0\\.1:${ctx.clientPort}\\b`, 'g'), '127.0.0.1:<client-port>')
    .replace(new RegExp(`127\\.0\\.0\\.1:${ctx.peerPort}\\b`, 'g'), '127.0.0.1:<peer-port>');
  t = replaceAllWords(t, ctx.clusterId.toString(), CLUSTER);
  t = replaceAllWords(t, ctx.clusterId.toString(16), CLUSTER);
  t = replaceAllWords(t, ctx.memberId.toString(), MEMBER);
  t = replaceAllWords(t, ctx.memberId.toString(16), MEMBER);
  return t;
}

function canonicalTable(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (/^\+[-+]*\+$/.test(line)) return '+';
      if (!line.startsWith('|')) return line;
      const cells = line.slice(1, -1).split('|').map((c) => c.trim());
      return `| ${cells.join(' | ')} |`;
    })
    .join('\n');
}

// Columns of `endpoint status` in simple and table form: 0 endpoint, 1 ID, 2 version, 3 DB size,
// 4 is leader, 5 is learner, 6 raft term, 7 raft index, 8 raft applied index, 9 errors.
const STATUS_MASKED_COLUMNS = new Set([2, 3, 7, 8]);

function maskEndpointStatus(text: string, format: string): string {
  switch (format) {
    case 'json':
      return text
        .replace(/"version":"[^"]*"/g, `"version":"${MASK}"`)
        .replace(/"(dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":\d+/g, `"$1":"${MASK}"`);
    case 'fields':
      return text
        .replace(/^"Version" : "[^"]*"$/gm, `"Version" : "${MASK}"`)
        .replace(/^"(DBSize|DBSizeInUse|RaftIndex|RaftAppliedIndex)" : \d+$/gm, `"$1" : ${MASK}`);
    case 'table':
      return text
        .split('\n')
        .map((line, i, lines) => {
          // The first cell row is the header; data rows follow it.
          const firstRow = lines.findIndex((l) => l.startsWith('|'));
          if (!line.startsWith('|') || i === firstRow) return line;
          const cells = line.slice(2, -2).split(' | ');
          return `| ${cells.map((c, j) => (STATUS_MASKED_COLUMNS.has(j) ? MASK : c)).join(' | ')} |`;
        })
        .join('\n');
    default:
      return text
        .split('\n')
        .map((line) =>
          line === '' ? line : line.split(', ').map((c, j) => (STATUS_MASKED_COLUMNS.has(j) ? MASK : c)).join(', '),
        )
        .join('\n');
  }
}

function maskDurations(text: string): string {
  return text.replace(/\b(\d+(\.\d+)?(h|ms|m|s|µs|us|ns))+\b/g, '<duration>');
}

function condenseLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry['level'] !== 'string' || typeof entry['msg'] !== 'string') return line;
  const rest = Object.entries(entry)
    .filter(([k]) => !['level', 'msg', 'ts', 'caller', 'target'].includes(k))
    .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
    .join('');
  return `[${entry['level']}] ${entry['msg']}${rest}`;
}

/**
 * The recorded text of one run: stdout as printed, then each stderr line prefixed `stderr: `,
 * then `exit: <code>` when etcdctl did not exit 0.
 */
export function renderRun(args: readonly string[], run: EtcdctlResult, ctx: NormalizeContext): string {
  const format = writeOutFormat(args);
  const command = commandWords(args).join(' ');
  const nameId = (v: bigint): string | undefined =>
    v === ctx.memberId ? MEMBER : v === ctx.clusterId ? CLUSTER : undefined;
  let stdout = format === 'protobuf' ? protobufToText(run.stdoutBytes, nameId) : run.stdout;
  if (stdout !== '' && !stdout.endsWith('\n')) stdout += '\n(no newline at end of stdout)\n';
  stdout = replaceEndpointsAndIds(stdout, ctx);
  let stderr = replaceEndpointsAndIds(run.stderr, ctx);
  if (format === 'table') stdout = canonicalTable(stdout);
  if (command === 'endpoint status') stdout = maskEndpointStatus(stdout, format);
  if (command === 'endpoint health') {
    stdout = maskDurations(stdout);
    stderr = maskDurations(stderr);
  }
  const stderrLines = stderr === '' ? [] : stderr.replace(/\n$/, '').split('\n').map((l) => `stderr: ${condenseLogLine(l)}`);
  const tail = [...stderrLines, ...(run.timedOut ? ['etcdctl timed out'] : run.code !== 0 ? [`exit: ${run.code}`] : [])];
  return stdout + (tail.length > 0 ? tail.join('\n') + '\n' : '');
}
