import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../pkg/datadriven.js';
import { IndexEntry, KeyIndex } from './key-index.js';
import { RevisionSet } from './revision-set.js';

// Golden tests of one key's index. Commands:
//   new key=foo                       a fresh KeyIndex
//   put rev=2.0 | tombstone rev=3.0   record a change, print the generations
//   restore created=2 rev=4.0 ver=3   rebuild from a stored version
//   get rev=N | since rev=N           queries
//   compact rev=N | keep rev=N        print generations and the available revisions

function parseRev(s: string | undefined): [number, number] {
  const [main, sub] = (s ?? '').split('.').map(Number);
  if (main === undefined || Number.isNaN(main)) throw new Error(`bad revision ${s}`);
  return [main, sub ?? 0];
}

function fmtSet(set: RevisionSet): string {
  const v = set.values();
  return v.length === 0 ? '-' : v.map((r) => `${r.main}.${r.sub}`).join(' ');
}

let ki = new KeyIndex('foo');

function run(tc: TestCase): string {
  try {
    switch (tc.cmd) {
      case 'new':
        ki = new KeyIndex(tc.args.get('key') ?? 'foo');
        return ki.toString();
      case 'put': {
        const [m, s] = parseRev(tc.args.get('rev'));
        ki.put(m, s);
        return ki.toString();
      }
      case 'tombstone': {
        const [m, s] = parseRev(tc.args.get('rev'));
        return ki.tombstone(m, s) ? ki.toString() : 'revision not found';
      }
      case 'restore': {
        const [m, s] = parseRev(tc.args.get('rev'));
        ki.restore(Number(tc.args.get('created')), m, s, Number(tc.args.get('ver')));
        return ki.toString();
      }
      case 'get': {
        const out = new IndexEntry();
        if (!ki.get(Number(tc.args.get('rev')), out)) return 'revision not found';
        return `mod=${out.modMain}.${out.modSub} created=${out.created} ver=${out.ver}`;
      }
      case 'since': {
        const revs = ki.since(Number(tc.args.get('rev')));
        return revs.length === 0 ? '-' : revs.map((r) => `${r.main}.${r.sub}`).join(' ');
      }
      case 'compact': {
        const available = new RevisionSet();
        ki.compact(Number(tc.args.get('rev')), available);
        return `${ki.toString()}${ki.isEmpty() ? ' (empty: remove key)' : ''}\navailable: ${fmtSet(available)}`;
      }
      case 'keep': {
        const available = new RevisionSet();
        ki.keep(Number(tc.args.get('rev')), available);
        return `available: ${fmtSet(available)}`;
      }
      default:
        return `unknown command ${tc.cmd}`;
    }
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata', 'key-index'))) {
  test(`key index golden ${basename(file)}`, () => {
    runDataDrivenFile(file, run, (tc, actual) => assert.equal(actual, tc.expected, tc.pos));
  });
}
