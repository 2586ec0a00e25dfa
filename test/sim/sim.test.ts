/**
 * Runs the seeded raft simulation over many seeds (3, 5 and 7 nodes in turn). SIM_SEEDS=n changes
 * the number of seeds; SIM_SEED=n replays one seed (tracing its events with SIM_TRACE=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEADER_BOUND, COMMIT_BOUND, SimFailure, Simulation, nodesForSeed, type SimReport } from './simulation.js';

const only = process.env['SIM_SEED'];
const count = Number(process.env['SIM_SEEDS'] ?? '500');

function runSeed(seed: number): SimReport {
  return new Simulation({ seed, nodes: nodesForSeed(seed), trace: process.env['SIM_TRACE'] === '1' }).run();
}

if (only !== undefined) {
  test(`simulation replays seed ${only}`, () => {
    const r = runSeed(Number(only));
    console.log(JSON.stringify(r));
    assert.ok(r.applied > 0, 'the cluster applied entries');
  });
} else {
  test(`simulation keeps raft safe and live over ${count} seeds of 3, 5 and 7 nodes`, () => {
    const started = Date.now();
    const failures: string[] = [];
    const totals = { applied: 0, leaders: 0, crashes: 0, confChanges: 0, snapshots: 0, reads: 0, ticks: 0 };
    let maxElection = 0;
    let maxCommit = 0;
    for (let seed = 1; seed <= count; seed++) {
      try {
        const r = runSeed(seed);
        totals.applied += r.applied;
        totals.leaders += r.leaders;
        totals.crashes += r.crashes;
        totals.confChanges += r.confChanges;
        totals.snapshots += r.snapshots;
        totals.reads += r.reads;
        totals.ticks += r.ticks;
        maxElection = Math.max(maxElection, r.maxElectionTicks);
        maxCommit = Math.max(maxCommit, r.maxCommitTicks);
      } catch (e) {
        if (!(e instanceof SimFailure)) throw e;
        failures.push(e.message);
        if (failures.length >= 3) break;
      }
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `simulation: ${count} seeds in ${secs}s; ${JSON.stringify(totals)}; worst election ${maxElection}/${LEADER_BOUND} ticks, worst commit ${maxCommit}/${COMMIT_BOUND} ticks`,
    );
    assert.deepEqual(failures, [], failures.join('\n\n'));
    assert.ok(totals.confChanges > 0 && totals.crashes > 0 && totals.snapshots > 0, 'the faults and changes were exercised');
  });
}
