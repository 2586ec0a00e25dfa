/**
 * The etcdctl differential suite: every scenario in differential/scenarios runs on a fresh real
 * etcd (whose outputs the scenario file records) and then on a fresh member of the implementation
 * under test (E2E_TARGET, default etcd-ts) with the same name, ports and token; the outputs must
 * be equal. The second half skips, with the reason, while etcd-ts does not answer KV requests.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { sourceDirOf, testdataFiles } from '../../src/pkg/datadriven.js';
import { realEtcdSkipReason, targetKind, targetSkipReason } from './harness/index.js';
import {
  describeMismatches,
  newScenarioSetup,
  runAgainstReference,
  runReference,
  type CaseOutput,
  type ScenarioSetup,
} from './differential/scenario-runner.js';

const scenarioDir = join(sourceDirOf(import.meta.url), 'differential', 'scenarios');
const target = targetKind();
const etcdSkip = realEtcdSkipReason();
const targetSkip = etcdSkip ?? (await targetSkipReason(target));

for (const file of testdataFiles(scenarioDir)) {
  describe(`scenario ${basename(file, '.txt')}`, { skip: etcdSkip }, () => {
    let setup: ScenarioSetup | undefined;
    let reference: CaseOutput[] | undefined;

    test('real etcd prints what the scenario file records', async () => {
      setup = await newScenarioSetup();
      const run = await runReference(file, setup);
      reference = run.outputs;
      assert.ok(reference.length > 0, 'scenario has no cases');
      assert.equal(run.goldenMismatches.length, 0, describeMismatches('golden', run.goldenMismatches));
    });

    test(`${target} prints what real etcd prints`, { skip: targetSkip }, async () => {
      assert.ok(setup !== undefined && reference !== undefined, 'the real etcd run did not complete');
      const mismatches = await runAgainstReference(target, reference, setup);
      assert.equal(mismatches.length, 0, describeMismatches('real etcd', mismatches));
    });
  });
}
