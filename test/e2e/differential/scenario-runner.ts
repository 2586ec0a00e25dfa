/**
 * Runs scenario files (see scenario-command.ts for their language) against one implementation:
 * each file on a fresh single member, every case through the real etcdctl, every output rendered
 * by renderRun. The reference run (real etcd) goes through the golden-file runner, so the file
 * records what etcd does (REWRITE=1 rewrites it); the run under test replays the same cases on
 * the same name, ports and token and is compared case by case with the reference.
 */
import { runDataDrivenFile, type TestCase } from '../../../src/pkg/datadriven.js';
import { etcdctl, etcdctlSync } from '../harness/etcdctl.js';
import { freePorts } from '../harness/free-port.js';
import { clusterIdOf } from '../harness/member-id.js';
import { startMember, type Member, type MemberKind } from '../harness/member.js';
import { expandInput, splitCommandLine } from './scenario-command.js';
import { renderRun, type NormalizeContext } from './normalize-output.js';

/** The identity every run of one scenario shares, so member and cluster IDs are equal. */
export interface ScenarioSetup {
  readonly name: string;
  readonly token: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

/** One case and the text it produced. */
export interface CaseOutput {
  readonly tc: TestCase;
  readonly output: string;
}

/** A case whose output differs from the expectation. */
export interface CaseMismatch {
  readonly pos: string;
  readonly command: string;
  readonly expected: string;
  readonly actual: string;
}

/** Picks ports for a scenario; name and token are fixed so the IDs are the same on every run. */
export async function newScenarioSetup(): Promise<ScenarioSetup> {
  const [clientPort, peerPort] = await freePorts(2);
  return { name: 'differential', token: 'etcd-differential', clientPort: clientPort!, peerPort: peerPort! };
}

function commandLine(tc: TestCase): string {
  return [tc.cmd, ...tc.cmdArgs].join(' ');
}

function runCase(tc: TestCase, member: Member, ctx: NormalizeContext): string {
  const args = splitCommandLine(commandLine(tc));
  const run = etcdctlSync(member.endpoint, args, { input: expandInput(tc.input) });
  return renderRun(args, run, ctx);
}

async function runCaseAsync(tc: TestCase, member: Member, ctx: NormalizeContext): Promise<string> {
  const args = splitCommandLine(commandLine(tc));
  const run = await etcdctl(member.endpoint, args, { input: expandInput(tc.input) });
  const output = renderRun(args, run, ctx);
  return output !== '' && !output.endsWith('\n') ? output + '\n' : output;
}

// A server that stops answering would cost etcdctl's full timeout on every remaining case.
const MAX_CONSECUTIVE_TIMEOUTS = 3;

async function withMember<T>(
  kind: MemberKind,
  setup: ScenarioSetup,
  body: (m: Member, ctx: NormalizeContext) => T | Promise<T>,
): Promise<T> {
  const member = await startMember(kind, {
    name: setup.name,
    clientPort: setup.clientPort,
    peerPort: setup.peerPort,
    initialClusterToken: setup.token,
  });
  try {
    const ctx: NormalizeContext = {
      clientPort: setup.clientPort,
      peerPort: setup.peerPort,
      memberId: member.expectedId,
      clusterId: clusterIdOf([member.expectedId]),
    };
    return await body(member, ctx);
  } finally {
    await member.destroy();
  }
}

/**
 * Runs `file` against a fresh real etcd through the golden-file runner. Returns every case with
 * its output, and the cases whose output differs from the file (none when REWRITE=1: the file is
 * rewritten instead).
 */
export async function runReference(
  file: string,
  setup: ScenarioSetup,
): Promise<{ outputs: CaseOutput[]; goldenMismatches: CaseMismatch[] }> {
  return withMember('etcd', setup, (member, ctx) => {
    const outputs: CaseOutput[] = [];
    const goldenMismatches: CaseMismatch[] = [];
    runDataDrivenFile(
      file,
      (tc) => {
        const output = runCase(tc, member, ctx);
        outputs.push({ tc, output });
        return output;
      },
      (tc, actual) => goldenMismatches.push({ pos: tc.pos, command: commandLine(tc), expected: tc.expected, actual }),
    );
    return { outputs, goldenMismatches };
  });
}

/**
 * Replays the reference's cases, in order, against a fresh member of `kind` with the same setup,
 * and returns the cases whose output differs from the reference's. Stops early, reporting why,
 * when the member exits or stops answering. (Asynchronous, unlike the reference run, so the
 * member's exit is noticed.)
 */
export async function runAgainstReference(
  kind: MemberKind,
  reference: readonly CaseOutput[],
  setup: ScenarioSetup,
): Promise<CaseMismatch[]> {
  return withMember(kind, setup, async (member, ctx) => {
    const mismatches: CaseMismatch[] = [];
    let timeouts = 0;
    for (const { tc, output: expected } of reference) {
      const actual = await runCaseAsync(tc, member, ctx);
      if (actual !== expected) mismatches.push({ pos: tc.pos, command: commandLine(tc), expected, actual });
      timeouts = /context deadline exceeded/.test(actual) ? timeouts + 1 : 0;
      const stop = !member.running
        ? `the ${kind} member is gone (${JSON.stringify(member.exitStatus)})`
        : timeouts >= MAX_CONSECUTIVE_TIMEOUTS
          ? `the ${kind} member stopped answering`
          : undefined;
      if (stop !== undefined) {
        const actualStop = `${stop}; remaining cases not run\n--- log tail ---\n${member.logTail()}\n`;
        mismatches.push({ pos: tc.pos, command: '(scenario aborted)', expected: '', actual: actualStop });
        break;
      }
    }
    return mismatches;
  });
}

/** A readable report of mismatches, for an assertion message. */
export function describeMismatches(what: string, mismatches: readonly CaseMismatch[]): string {
  const parts = mismatches.map(
    (m) => `${m.pos}: ${m.command}\n--- ${what} expected:\n${m.expected}--- actual:\n${m.actual}`,
  );
  return `${mismatches.length} case(s) differ\n\n${parts.join('\n')}`;
}
