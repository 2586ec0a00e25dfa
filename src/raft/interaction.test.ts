/**
 * Golden interaction tests: each file under testdata/ drives a fresh InteractionEnv command by
 * command and compares the output (REWRITE=1 rewrites the files for review).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runDataDrivenFile, sourceDirOf, testdataFiles } from '../pkg/datadriven.js';
import { InteractionEnv } from './rafttest/interaction-env.js';

const dir = join(sourceDirOf(import.meta.url), 'testdata');

for (const file of testdataFiles(dir)) {
  const name = file.slice(dir.length + 1);
  test(`interaction ${name} matches its golden output`, () => {
    const env = new InteractionEnv();
    let cases = 0;
    runDataDrivenFile(
      file,
      (tc) => {
        cases++;
        return env.handle(tc);
      },
      (tc, actual) => assert.equal(actual, tc.expected, `${tc.pos}: ${tc.cmd} ${tc.cmdArgs.join(' ')}`),
    );
    assert.ok(cases > 0, `${name} holds test cases`);
  });
}
