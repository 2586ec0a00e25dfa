import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../../pkg/datadriven.js';
import { ProgressTracker, describeProgressMap, describeTrackerConfig } from '../tracker/index.js';
import { Changer, type ChangeResult } from './changer.js';
import { confChangesFromString } from './describe.js';

// Commands: `simple`, `enter-joint [autoleave=true]` and `leave-joint`. Changes (`v1 l2 r3 u4`)
// come from the command line and the input lines. The last index grows by one per command, so
// new progresses show where they start.
function runFile(file: string): void {
  const tracker = new ProgressTracker(10);
  let lastIndex = 0;
  const run = (tc: TestCase): string => {
    const words = tc.cmdArgs.filter((w) => !w.includes('='));
    const ccs = confChangesFromString([...words, tc.input].join(' '));
    const chg = new Changer(tracker, lastIndex, 10);
    lastIndex++;
    let r: ChangeResult;
    switch (tc.cmd) {
      case 'simple':
        r = chg.simple(ccs);
        break;
      case 'enter-joint':
        r = chg.enterJoint(tc.args.get('autoleave') === 'true', ccs);
        break;
      case 'leave-joint':
        if (ccs.length > 0) return 'leave-joint takes no changes\n';
        r = chg.leaveJoint();
        break;
      default:
        return `unknown command ${tc.cmd}\n`;
    }
    if (!r.ok) return `${r.error}\n`;
    tracker.config = r.config;
    tracker.progress = r.progress;
    return `${describeTrackerConfig(tracker.config)}\n${describeProgressMap(tracker.progress)}`;
  };
  runDataDrivenFile(file, run, (tc, actual) => assert.equal(actual, tc.expected, tc.pos));
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata'))) {
  test(`confchange golden ${basename(file)}`, () => runFile(file));
}
