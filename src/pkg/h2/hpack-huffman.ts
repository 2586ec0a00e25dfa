/**
 * HPACK Huffman decoding (RFC 7541 §5.2, code in Appendix B), one input byte per step.
 *
 * The code tree has 256 internal nodes. A decoder state is the internal node reached by the bits
 * read since the last complete symbol. For every (state, byte) pair a table holds the next state,
 * the symbols completed on the way (at most two: codes are at least 5 bits long), whether EOS was
 * hit, and whether the next state is a valid place to stop. The table (256 KiB) is built once, on
 * the first decode, so processes that never meet a Huffman string never pay for it.
 */

import { Buffer } from 'node:buffer';
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES } from './hpack-huffman-table.js';

const EOS = 256;

// Transition entry layout (fits in 28 bits): next state | sym1 << 8 | sym2 << 16 | flags.
const EMIT1 = 1 << 24;
const EMIT2 = 1 << 25;
// The next state is the root or lies on the all-ones path at depth <= 7: the bits read since the
// last symbol may be the padding, which is a prefix of EOS shorter than a byte (RFC 7541 §5.2).
const ACCEPT = 1 << 26;
// The byte completes EOS, which must never appear inside a string (RFC 7541 §5.2).
const FAIL = 1 << 27;

/** transitions[state << 8 | byte]: see the layout above; built by the first decode. */
let transitions: Uint32Array | undefined;

function buildTransitions(): Uint32Array {
  // Children of internal node n: child[2n] for bit 0, child[2n + 1] for bit 1. A value >= 1 is an
  // internal node id (the root, 0, is nobody's child); a value < 0 is the leaf of symbol -1 - v.
  const child = new Int32Array(512);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_CODE_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      if (child[slot] === 0) child[slot] = nodes++;
      node = child[slot]!;
    }
    child[2 * node + (code & 1)] = -1 - sym;
  }
  if (nodes !== 256) throw new Error(`hpack: Huffman table yields ${nodes} internal nodes, want 256`);

  const accepting = new Uint8Array(256);
  for (let node = 0, depth = 0; depth <= 7; depth++) {
    accepting[node] = 1;
    node = child[2 * node + 1]!;
  }

  // First per 4-bit step (at most one symbol: codes are at least 5 bits), then each byte as two
  // steps, which is far cheaper at load than walking 8 bits for every (state, byte) pair.
  // Nibble entry: next state | sym << 8 | NIBBLE_EMIT, or FAIL.
  const NIBBLE_EMIT = 1 << 16;
  const nibbles = new Uint32Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = child[2 * node + ((nibble >>> bit) & 1)]!;
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -1 - next;
        if (sym === EOS) {
          entry = FAIL;
          break;
        }
        entry = NIBBLE_EMIT | (sym << 8);
        node = 0;
      }
      nibbles[(state << 4) | nibble] = entry === FAIL ? FAIL : entry | node;
    }
  }

  const table = new Uint32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      const high = nibbles[(state << 4) | (byte >>> 4)]!;
      const low = high === FAIL ? FAIL : nibbles[((high & 0xff) << 4) | (byte & 0x0f)]!;
      if (low === FAIL) {
        table[(state << 8) | byte] = FAIL;
        continue;
      }
      const node = low & 0xff;
      let entry = node | (accepting[node] === 1 ? ACCEPT : 0);
      if ((high & NIBBLE_EMIT) !== 0) {
        entry |= EMIT1 | (high & 0xff00);
        if ((low & NIBBLE_EMIT) !== 0) entry |= EMIT2 | ((low & 0xff00) << 8);
      } else if ((low & NIBBLE_EMIT) !== 0) {
        entry |= EMIT1 | (low & 0xff00);
      }
      table[(state << 8) | byte] = entry;
    }
  }
  return table;
}

// Output of decodes small enough to fit, reused: decoding is synchronous, so it is never shared.
const SCRATCH_BYTES = 4096;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/**
 * Decodes the Huffman-coded string in `buf[start, end)` to a latin1 string (one char per octet).
 * Returns undefined when the input is invalid: EOS inside the string, or padding that is longer
 * than 7 bits or not all ones (RFC 7541 §5.2). The caller maps that to COMPRESSION_ERROR.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string | undefined {
  const table = (transitions ??= buildTransitions());
  // Every code is at least 5 bits, so n input bytes yield at most 8n/5 symbols.
  const most = Math.floor(((end - start) * 8) / 5);
  const out = most <= SCRATCH_BYTES ? scratch : Buffer.allocUnsafe(most);
  let n = 0;
  let state = 0;
  let entry = ACCEPT;
  for (let i = start; i < end; i++) {
    entry = table[(state << 8) | buf[i]!]!;
    if ((entry & (EMIT1 | FAIL)) !== 0) {
      if ((entry & FAIL) !== 0) return undefined;
      out[n++] = (entry >>> 8) & 0xff;
      if ((entry & EMIT2) !== 0) out[n++] = (entry >>> 16) & 0xff;
    }
    state = entry & 0xff;
  }
  if ((entry & ACCEPT) === 0) return undefined;
  return out.toString('latin1', 0, n);
}
