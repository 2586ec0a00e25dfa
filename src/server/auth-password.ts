/**
 * Password hashing for the auth store. etcd hashes with bcrypt; here a KDF from node:crypto
 * (scrypt, N=2^14, r=8, p=1, 16-byte salt) runs on the member that proposes the user or the new
 * password, off the main thread, and the proposal carries only the result: applying stays fast
 * and identical on every member (as etcd 3.5 does with its hashedPassword field).
 *
 * Stored form: `$scrypt$ln=14,r=8,p=1$<salt base64>$<hash base64>`.
 */
import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SIMPLE_TOKEN_PREFIX_LENGTH } from '../auth/index.js';

const LOG_N = 14;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const STORED = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** The stored form of `password`, with a fresh salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KEY_LENGTH, { N: 2 ** LOG_N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches the stored form `stored` (false for anything unrecognised). */
export async function verifyPassword(stored: Uint8Array, password: string): Promise<boolean> {
  const m = STORED.exec(new TextDecoder().decode(stored));
  if (m === null) return false;
  const logN = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  // Bounded so that a stored hash cannot make verification take unbounded memory or time.
  if (logN < 1 || logN > 16 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length === 0) return false;
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** logN, r, p, maxmem: 2 * 128 * r * 2 ** logN });
  return timingSafeEqual(key, expected);
}

/** A random simple-token prefix: 16 letters (etcd's genTokenPrefix). */
export function newTokenPrefix(): string {
  let s = '';
  for (let i = 0; i < SIMPLE_TOKEN_PREFIX_LENGTH; i++) s += LETTERS[randomInt(LETTERS.length)];
  return s;
}
