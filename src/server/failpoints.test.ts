import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Failpoints } from './failpoints.js';

test('a spec arms failpoints by name, action and hit number', () => {
  const fp = Failpoints.parse('after-save:kill@3, before-commit:exit');
  assert.equal(fp.isArmed('after-save'), true);
  assert.equal(fp.isArmed('before-commit'), true);
  assert.equal(fp.isArmed('before-apply'), false);
  assert.equal(Failpoints.parse(undefined).isArmed('after-save'), false);
  assert.equal(Failpoints.parse('  ').isArmed('after-save'), false);
});

test('unknown names and malformed items are refused with the list of names', () => {
  assert.throws(() => Failpoints.parse('before-lunch:exit'), /unknown failpoint "before-lunch" \(known: before-save, after-save/);
  assert.throws(() => Failpoints.parse('after-save'), /cannot parse "after-save"/);
  assert.throws(() => Failpoints.parse('after-save:explode'), /cannot parse/);
});

test('an armed point fires its action on the n-th hit, once', () => {
  const fp = new Failpoints();
  let fired = 0;
  fp.arm('before-apply', () => fired++, 2);
  fp.hit('before-apply');
  assert.equal(fired, 0);
  fp.hit('before-save');
  fp.hit('before-apply');
  assert.equal(fired, 1);
  fp.hit('before-apply');
  assert.equal(fired, 1);
  assert.equal(fp.isArmed('before-apply'), false);
  fp.arm('after-commit', 'panic');
  assert.throws(() => fp.hit('after-commit'), /failpoint after-commit panicked/);
});
