import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, newTokenPrefix, verifyPassword } from './auth-password.js';

const enc = new TextEncoder();

test('a hashed password verifies, a wrong one does not, and two hashes of one password differ (salt)', async () => {
  const h = await hashPassword('secret');
  assert.match(h, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword(enc.encode(h), 'secret'), true);
  assert.equal(await verifyPassword(enc.encode(h), 'Secret'), false);
  assert.equal(await verifyPassword(enc.encode(h), ''), false);
  assert.notEqual(await hashPassword('secret'), h);
  assert.equal(await verifyPassword(enc.encode(await hashPassword('')), ''), true, 'an empty password is a password');
});

test('unrecognised or out-of-bounds stored forms never verify', async () => {
  assert.equal(await verifyPassword(enc.encode(''), ''), false);
  assert.equal(await verifyPassword(enc.encode('secret'), 'secret'), false);
  assert.equal(await verifyPassword(enc.encode('$scrypt$ln=30,r=8,p=1$AAAA$AAAA'), 'x'), false);
});

test('token prefixes are 16 letters', () => {
  for (let i = 0; i < 20; i++) assert.match(newTokenPrefix(), /^[A-Za-z]{16}$/);
});
