/**
 * Bytes in the protobuf varint encoding of `n`, a non-negative safe integer (sizes, revisions,
 * lengths). Used to compute encoded message sizes without encoding.
 */
export function varintLen(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let len = 5;
  n = Math.floor(n / 0x800000000);
  while (n > 0) {
    len++;
    n = Math.floor(n / 0x80);
  }
  return len;
}
