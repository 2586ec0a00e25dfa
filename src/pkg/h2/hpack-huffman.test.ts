import { test } from 'node:test';
import assert from 'node:assert/strict';
import { huffmanDecode } from './hpack-huffman.js';
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES } from './hpack-huffman-table.js';
import { seededRand } from '../rand.js';

/** Test-only encoder, straight from the code table: symbols' bits, then ones up to a byte boundary. */
function huffmanEncode(symbols: readonly number[]): Uint8Array {
  let bits = '';
  for (const sym of symbols) bits += HUFFMAN_CODES[sym]!.toString(2).padStart(HUFFMAN_CODE_LENGTHS[sym]!, '0');
  bits += '1'.repeat((8 - (bits.length % 8)) % 8);
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return out;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function decodeAll(bytes: Uint8Array): string | undefined {
  return huffmanDecode(bytes, 0, bytes.length);
}

test('every single byte value 0..255 decodes back from its code', () => {
  for (let sym = 0; sym < 256; sym++) {
    assert.equal(decodeAll(huffmanEncode([sym])), String.fromCharCode(sym), `symbol ${sym}`);
  }
});

test('all 256 symbols in one string decode in order', () => {
  const symbols = Array.from({ length: 256 }, (_, i) => 255 - i);
  assert.equal(decodeAll(huffmanEncode(symbols)), String.fromCharCode(...symbols));
});

test('random strings round-trip, including ones longer than the reused scratch buffer', () => {
  const rand = seededRand(7541);
  for (let round = 0; round < 300; round++) {
    const length = round === 0 ? 20000 : rand.intn(80);
    // Mostly printable ASCII, like real header values, with some arbitrary octets.
    const symbols = Array.from({ length }, () => (rand.intn(4) === 0 ? rand.intn(256) : 32 + rand.intn(95)));
    const text = String.fromCharCode(...symbols);
    assert.equal(decodeAll(huffmanEncode(symbols)), text, `round ${round}`);
  }
});

test('decodes only the given range of the buffer', () => {
  const inner = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex');
  const buf = Buffer.concat([Buffer.from([0x00, 0x00]), inner, Buffer.from([0x00])]);
  assert.equal(huffmanDecode(buf, 2, 2 + inner.length), 'www.example.com');
  assert.equal(huffmanDecode(buf, 1, 1), '');
});

test('RFC 7541 Appendix C strings decode', () => {
  const cases: [string, string][] = [
    ['f1e3c2e5f23a6ba0ab90f4ff', 'www.example.com'],
    ['a8eb10649cbf', 'no-cache'],
    ['25a849e95ba97d7f', 'custom-key'],
    ['25a849e95bb8e8b4bf', 'custom-value'],
    ['6402', '302'],
    ['aec3771a4b', 'private'],
    ['d07abe941054d444a8200595040b8166e082a62d1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['9d29ad171863c78f0b97c8e9ae82ae43d3', 'https://www.example.com'],
  ];
  for (const [hex, text] of cases) assert.equal(decodeAll(Buffer.from(hex, 'hex')), text, hex);
});

test('padding of up to 7 one bits is accepted, a whole byte of padding is not', () => {
  // 'a' is 00011 (5 bits): 3 bits of padding complete the byte.
  assert.equal(decodeAll(Uint8Array.of(0x1f)), 'a');
  // '0' is 00000 followed by 'a' 00011 and padding 111111: 16 bits.
  assert.equal(decodeAll(Uint8Array.of(0x00, 0xff)), '0a');
  assert.equal(decodeAll(Uint8Array.of(0x1f, 0xff)), undefined);
  assert.equal(decodeAll(Uint8Array.of(0xff)), undefined);
});

test('padding that is not all ones is rejected', () => {
  assert.equal(decodeAll(Uint8Array.of(0x18)), undefined);
  assert.equal(decodeAll(Uint8Array.of(0x1e)), undefined);
});

test('EOS inside a string is rejected', () => {
  // EOS is 30 one bits; two more ones pad the fourth byte.
  assert.equal(decodeAll(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), undefined);
  // 'a' then EOS: 5 + 30 bits, then 5 bits of padding.
  const bytes = huffmanEncode([0x61, 256]);
  assert.equal(decodeAll(bytes), undefined);
});

test('RFC 7541 Appendix C strings decode', () => {
  assert.equal(decodeAll(hex('f1e3c2e5f23a6ba0ab90f4ff')), 'www.example.com'); // C.4.1
  assert.equal(decodeAll(hex('a8eb10649cbf')), 'no-cache'); // C.4.2
  assert.equal(decodeAll(hex('25a849e95ba97d7f')), 'custom-key'); // C.4.3
  assert.equal(decodeAll(hex('6402')), '302'); // C.6.1
  assert.equal(decodeAll(hex('')), '');
});

test('a string whose last byte is not all-ones padding is rejected', () => {
  assert.equal(decodeAll(hex('f1e3c2e5f23a6ba0ab90f400')), undefined);
});
