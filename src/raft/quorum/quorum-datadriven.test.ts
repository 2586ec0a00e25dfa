import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../../pkg/datadriven.js';
import { MapAckIndexer, formatIndex } from './acked-indexer.js';
import { JointConfig } from './joint-config.js';
import { MajorityConfig } from './majority-config.js';
import { VoteResult } from './vote-result.js';

// Commands:
//   committed cfg=(1,2,3) [cfgj=(3,4)] idx=(10,_,7,...)
//   vote      cfg=(1,2,3) [cfgj=(3,4)] votes=(y,n,_,...)
// idx and votes list one value per voter in the order the voters first appear in cfg then cfgj;
// `_` means the voter has not acked / voted.

function parseList(s: string | undefined): string[] {
  if (s === undefined) return [];
  const m = /^\((.*)\)$/.exec(s);
  if (m === null) throw new Error(`not a list: ${s}`);
  return m[1]!.trim() === '' ? [] : m[1]!.split(',').map((x) => x.trim());
}

// The committed index by definition: the largest index that a majority has acked.
function naiveCommitted(ids: ReadonlySet<bigint>, acks: ReadonlyMap<bigint, number>): number {
  if (ids.size === 0) return Number.MAX_SAFE_INTEGER;
  let best = 0;
  for (const id of ids) {
    const cand = acks.get(id) ?? 0;
    let holders = 0;
    for (const other of ids) if ((acks.get(other) ?? 0) >= cand) holders++;
    if (holders > ids.size / 2 && cand > best) best = cand;
  }
  return best;
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : s + '\n';
}

function run(tc: TestCase): string {
  const cfg = new MajorityConfig(parseList(tc.args.get('cfg')).map(BigInt));
  const cfgj = new MajorityConfig(parseList(tc.args.get('cfgj')).map(BigInt));
  const joint = tc.args.has('cfgj');
  const order = [...new Set([...parseList(tc.args.get('cfg')), ...parseList(tc.args.get('cfgj'))].map(BigInt))];
  switch (tc.cmd) {
    case 'committed': {
      const idx = parseList(tc.args.get('idx'));
      if (idx.length !== order.length) return `need ${order.length} indexes, got ${idx.length}\n`;
      const acks = new Map<bigint, number>();
      idx.forEach((v, i) => {
        if (v !== '_') acks.set(order[i]!, Number(v));
      });
      const l = new MapAckIndexer(acks);
      if (!joint) {
        const got = cfg.committedIndex(l);
        assert.equal(got, naiveCommitted(cfg.ids, acks), `${tc.pos}: disagrees with the definition`);
        return withNewline(cfg.describe(l)) + formatIndex(got) + '\n';
      }
      const jc = new JointConfig(cfg, cfgj);
      const got = jc.committedIndex(l);
      assert.equal(got, Math.min(naiveCommitted(cfg.ids, acks), naiveCommitted(cfgj.ids, acks)), `${tc.pos}: disagrees with the definition`);
      // Swapping the halves must not matter.
      assert.equal(new JointConfig(cfgj, cfg).committedIndex(l), got, `${tc.pos}: not symmetric`);
      return withNewline(jc.describe(l)) + formatIndex(got) + '\n';
    }
    case 'vote': {
      const vs = parseList(tc.args.get('votes'));
      if (vs.length !== order.length) return `need ${order.length} votes, got ${vs.length}\n`;
      const votes = new Map<bigint, boolean>();
      vs.forEach((v, i) => {
        if (v === 'y') votes.set(order[i]!, true);
        else if (v === 'n') votes.set(order[i]!, false);
      });
      const r = joint ? new JointConfig(cfg, cfgj).voteResult(votes) : cfg.voteResult(votes);
      return `${VoteResult[r]}\n`;
    }
    default:
      return `unknown command ${tc.cmd}\n`;
  }
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata'))) {
  test(`quorum golden ${basename(file)}`, () => {
    runDataDrivenFile(file, run, (tc, actual) => assert.equal(actual, tc.expected, tc.pos));
  });
}
