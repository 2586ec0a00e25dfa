import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runDataDrivenFile } from './datadriven.js';

const sample = `echo a=1 b
hello
----
a=1 b
hello

# a comment
blank
----
----
x

y
----
----
`;

test('datadriven parses short and long outputs and reports mismatches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-'));
  const file = join(dir, 'sample.txt');
  writeFileSync(file, sample);
  const seen: string[] = [];
  const mismatches: string[] = [];
  runDataDrivenFile(
    file,
    (tc) => {
      seen.push(tc.cmd);
      if (tc.cmd === 'echo') {
        assert.equal(tc.args.get('a'), '1');
        assert.equal(tc.args.get('b'), '');
        return `${tc.cmdArgs.join(' ')}\n${tc.input}`;
      }
      return 'x\n\nz';
    },
    (tc) => mismatches.push(tc.cmd),
  );
  assert.deepEqual(seen, ['echo', 'blank']);
  assert.deepEqual(mismatches, ['blank']);
});

test('datadriven rewrites expected outputs when REWRITE=1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-'));
  const file = join(dir, 'sample.txt');
  writeFileSync(file, sample);
  process.env['REWRITE'] = '1';
  try {
    runDataDrivenFile(file, (tc) => (tc.cmd === 'echo' ? 'changed' : 'p\n\nq'), () => assert.fail('no mismatch in rewrite mode'));
  } finally {
    delete process.env['REWRITE'];
  }
  const text = readFileSync(file, 'utf8');
  assert.match(text, /----\nchanged\n/);
  assert.match(text, /----\n----\np\n\nq\n----\n----/);
});
