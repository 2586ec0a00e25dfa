import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandInput, splitCommandLine } from './scenario-command.js';

test('splitCommandLine keeps quoted words, empty quotes and escapes', () => {
  assert.deepEqual(splitCommandLine(`get --from-key ''`), ['get', '--from-key', '']);
  assert.deepEqual(splitCommandLine(`put 'key with spaces' "say \\"hi\\""`), ['put', 'key with spaces', 'say "hi"']);
  assert.deepEqual(splitCommandLine(`put a\\ b x'y'z`), ['put', 'a b', 'xyz']);
  assert.throws(() => splitCommandLine(`put 'open`), /unterminated/);
});

test('expandInput turns dots into empty lines and expands times and bytes', () => {
  assert.equal(expandInput(''), '');
  assert.equal(expandInput('value("a") = "1"\n.\nput a 2\n.\n.'), 'value("a") = "1"\n\nput a 2\n\n\n');
  assert.equal(expandInput('{{times 3 put k$i v$i}}'), 'put k0 v0\nput k1 v1\nput k2 v2\n');
  assert.equal(expandInput('{{bytes 5 x}}'), 'xxxxx\n');
});
