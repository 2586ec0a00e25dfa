import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Permission_Type, type Permission } from '../api/gen/authpb.js';
import { RangePermissions, compareAffine } from './range-permissions.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const perm = (permType: Permission_Type, key: string, rangeEnd = ''): Permission => ({ permType, key: b(key), rangeEnd: rangeEnd === '\0' ? Uint8Array.of(0) : b(rangeEnd) });
const { READ, WRITE, READWRITE } = Permission_Type;

test('the empty string compares as +infinity', () => {
  assert.equal(compareAffine(b(''), b('zzz')), 1);
  assert.equal(compareAffine(b('zzz'), undefined), -1);
  assert.equal(compareAffine(b(''), undefined), 0);
  assert.ok(compareAffine(b('a'), b('ab')) < 0);
});

test('a single-key permission allows exactly that key', () => {
  const p = RangePermissions.of([perm(READ, 'foo')]);
  assert.ok(p.permits(READ, b('foo'), undefined));
  assert.ok(!p.permits(READ, b('foo0'), undefined));
  assert.ok(!p.permits(READ, b('fo'), undefined));
  assert.ok(!p.permits(WRITE, b('foo'), undefined));
  // A range of one key, [foo, foo\0), is covered too.
  assert.ok(p.permits(READ, b('foo'), b('foo\0')));
  assert.ok(!p.permits(READ, b('foo'), b('fop')));
});

test('a range permission covers sub-ranges and keys inside it, not beyond', () => {
  const p = RangePermissions.of([perm(WRITE, 'k1', 'k5')]);
  assert.ok(p.permits(WRITE, b('k1'), undefined));
  assert.ok(p.permits(WRITE, b('k49'), undefined));
  assert.ok(!p.permits(WRITE, b('k5'), undefined));
  assert.ok(p.permits(WRITE, b('k2'), b('k5')));
  assert.ok(!p.permits(WRITE, b('k2'), b('k6')));
  assert.ok(!p.permits(WRITE, b('k0'), b('k3')));
  assert.ok(!p.permits(READ, b('k2'), undefined));
});

test('a prefix permission is the range [prefix, prefix+1)', () => {
  const p = RangePermissions.of([perm(READWRITE, 'a', 'b')]);
  assert.ok(p.permits(READ, b('a'), b('b')));
  assert.ok(p.permits(WRITE, b('abc'), undefined));
  assert.ok(!p.permits(READ, b('b'), undefined));
});

test('a from-key permission ("\\0" range end) is open ended, also for open-ended reads', () => {
  const p = RangePermissions.of([perm(READ, 'z', '\0')]);
  assert.ok(p.permits(READ, b('z'), undefined));
  assert.ok(p.permits(READ, b('zzzz'), b('\0')));
  assert.ok(p.permits(READ, b('z1'), b('z9')));
  assert.ok(!p.permits(READ, b('y'), b('\0')));
  assert.ok(!p.permits(READ, b('y'), undefined));
});

test('adjacent and overlapping permissions from several roles cover their union without gaps', () => {
  const p = RangePermissions.of([perm(READ, 'c', 'e'), perm(READ, 'a', 'c'), perm(READ, 'd', 'g')]);
  assert.ok(p.permits(READ, b('a'), b('g')));
  assert.ok(p.permits(READ, b('b'), b('f')));
  assert.ok(!p.permits(READ, b('a'), b('h')));
  const gap = RangePermissions.of([perm(READ, 'a', 'c'), perm(READ, 'd', 'g')]);
  assert.ok(!gap.permits(READ, b('a'), b('e')));
  assert.ok(gap.permits(READ, b('d'), b('e')));
});

test('no permissions deny everything', () => {
  const p = RangePermissions.of([]);
  assert.ok(!p.permits(READ, b('a'), undefined));
  assert.ok(!p.permits(WRITE, b('a'), b('\0')));
});
