/**
 * Revisions as etcd's mvcc numbers them: `main` counts write transactions, `sub` counts the
 * changes inside one. In the backend's `key` bucket a revision is the 17-byte key
 * `main(8, big-endian) '_' sub(8, big-endian)`, with a trailing `'t'` byte marking a tombstone,
 * so the bucket iterates in revision order.
 */

/** One revision. invariant: main >= 0, sub >= 0, both safe integers. */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/** Length of an encoded revision. */
export const REV_BYTES_LEN = 17;
/** Length of an encoded revision with its mark byte. */
export const MARKED_REV_BYTES_LEN = 18;
/** The mark byte of a tombstone ('t'). */
export const MARK_TOMBSTONE = 0x74;

const TWO_32 = 0x1_0000_0000;

function writeUint64(out: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  const lo = n >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

function readUint64(b: Uint8Array, at: number): number {
  const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const lo = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

/** The 17-byte key of revision (main, sub); with `tombstone`, the 18-byte marked key. */
export function revToBytes(main: number, sub: number, tombstone = false): Uint8Array {
  const out = new Uint8Array(tombstone ? MARKED_REV_BYTES_LEN : REV_BYTES_LEN);
  writeUint64(out, 0, main);
  out[8] = 0x5f; // '_'
  writeUint64(out, 9, sub);
  if (tombstone) out[REV_BYTES_LEN] = MARK_TOMBSTONE;
  return out;
}

/**
 * The latin1 string of revision (main, sub)'s key (see revToBytes), built without an
 * intermediate byte array: the form the backend's write batch indexes keys by.
 */
export function revKeyString(main: number, sub: number, tombstone = false): string {
  const hi = Math.floor(main / TWO_32);
  const lo = main >>> 0;
  const shi = Math.floor(sub / TWO_32);
  const slo = sub >>> 0;
  const s = String.fromCharCode(
    hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff,
    lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff,
    0x5f,
    shi >>> 24, (shi >>> 16) & 0xff, (shi >>> 8) & 0xff, shi & 0xff,
    slo >>> 24, (slo >>> 16) & 0xff, (slo >>> 8) & 0xff, slo & 0xff,
  );
  return tombstone ? s + 't' : s;
}

/** The 8-byte big-endian prefix of `main`: as a range end it covers every revision below it. */
export function mainRevPrefix(main: number): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64(out, 0, main);
  return out;
}

/** The revision of a (possibly marked) revision key. */
export function bytesToRev(b: Uint8Array): Revision {
  return { main: readUint64(b, 0), sub: readUint64(b, 9) };
}

/** The main revision of a revision key. */
export function mainOfRevBytes(b: Uint8Array): number {
  return readUint64(b, 0);
}

/** The sub revision of a revision key. */
export function subOfRevBytes(b: Uint8Array): number {
  return readUint64(b, 9);
}

/** Whether a revision key carries the tombstone mark. */
export function isTombstoneKey(b: Uint8Array): boolean {
  return b.length === MARKED_REV_BYTES_LEN && b[REV_BYTES_LEN] === MARK_TOMBSTONE;
}

/** Orders revisions: negative when a < b, 0 when equal, positive when a > b. */
export function compareRev(aMain: number, aSub: number, bMain: number, bSub: number): number {
  return aMain !== bMain ? aMain - bMain : aSub - bSub;
}
