/**
 * Which implementation the end-to-end suites test (E2E_TARGET=etcd-ts, the default, or etcd to
 * validate the suites themselves against real etcd), and whether it can be tested here: suites
 * skip with the returned message instead of failing while etcd-ts does not serve KV requests yet.
 */
import { etcdTsEntry, hasEtcdTsDist, realEtcdSkipReason } from './binaries.js';
import { etcdctl } from './etcdctl.js';
import { startMember, type Member, type MemberKind } from './member.js';

/** The implementation under test, from E2E_TARGET (default 'etcd-ts'). */
export function targetKind(): MemberKind {
  const v = process.env['E2E_TARGET'] ?? 'etcd-ts';
  if (v !== 'etcd' && v !== 'etcd-ts') throw new Error(`E2E_TARGET must be 'etcd' or 'etcd-ts', not '${v}'`);
  return v;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Why tests of `kind` must skip, or undefined when it can be tested. Real etcd needs only its
 * binaries. etcd-ts must be built, become healthy within 5 s and accept a `put` within 5 s.
 */
export async function targetSkipReason(kind: MemberKind): Promise<string | undefined> {
  const noEtcd = realEtcdSkipReason();
  if (noEtcd !== undefined) return noEtcd;
  if (kind === 'etcd') return undefined;
  if (!hasEtcdTsDist()) return `etcd-ts is not built (${etcdTsEntry()} missing; run npm run build)`;
  let member: Member | undefined;
  try {
    member = await startMember('etcd-ts', { name: 'probe', readyTimeoutMs: PROBE_TIMEOUT_MS });
    const r = await etcdctl(member.endpoint, ['--command-timeout=5s', 'put', 'e2e-probe', 'v'], {
      timeoutMs: PROBE_TIMEOUT_MS + 2_000,
    });
    if (r.code !== 0) {
      const error = r.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? firstLine(r.stderr);
      return `etcd-ts does not answer KV requests yet (etcdctl put: ${error || `exit ${r.code}`})`;
    }
    return undefined;
  } catch (err) {
    return `etcd-ts does not serve yet: ${firstLine(err instanceof Error ? err.message : String(err))}`;
  } finally {
    await member?.destroy();
  }
}
