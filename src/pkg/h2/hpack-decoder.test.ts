import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { STATIC_TABLE } from './hpack-static-table.js';
import { seededRand } from '../rand.js';

type Field = [string, string];

function pairs(flat: readonly string[]): Field[] {
  const out: Field[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Decodes a block given in hex; throws on an error so vectors read as plain expectations. */
function decodeHex(decoder: HpackDecoder, hex: string): Field[] {
  const out: string[] = [];
  const error = decoder.decode(Buffer.from(hex, 'hex'), out);
  assert.equal(error, undefined, `decoding ${hex}`);
  return pairs(out);
}

/** The error text of decoding `bytes`. */
function decodeError(decoder: HpackDecoder, bytes: readonly number[]): string | undefined {
  return decoder.decode(Uint8Array.from(bytes), []);
}

/** The dynamic table, newest first, read back through indexed fields 62, 63, ... */
function dynamicEntries(decoder: HpackDecoder): Field[] {
  const block = Array.from({ length: decoder.dynamicTableLength }, (_, i) => 0x80 | (62 + i));
  const out: string[] = [];
  assert.equal(decoder.decode(Uint8Array.from(block), out), undefined);
  return pairs(out);
}

const AUTHORITY: Field = [':authority', 'www.example.com'];
const GET_HTTP_ROOT: Field[] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/']];

test('RFC 7541 C.2: single literal representations', () => {
  let decoder = new HpackDecoder();
  assert.deepEqual(decodeHex(decoder, '400a637573746f6d2d6b65790d637573746f6d2d686561646572'), [['custom-key', 'custom-header']]);
  assert.equal(decoder.dynamicTableSize, 55);
  assert.deepEqual(dynamicEntries(decoder), [['custom-key', 'custom-header']]);

  decoder = new HpackDecoder();
  assert.deepEqual(decodeHex(decoder, '040c2f73616d706c652f70617468'), [[':path', '/sample/path']]);
  assert.equal(decoder.dynamicTableSize, 0);

  decoder = new HpackDecoder();
  assert.deepEqual(decodeHex(decoder, '100870617373776f726406736563726574'), [['password', 'secret']]);
  assert.equal(decoder.dynamicTableSize, 0);

  decoder = new HpackDecoder();
  assert.deepEqual(decodeHex(decoder, '82'), [[':method', 'GET']]);
  assert.equal(decoder.dynamicTableSize, 0);
});

/** The three requests of C.3 (plain) and C.4 (Huffman): same fields, same tables. */
function checkRequestSequence(blocks: readonly [string, string, string]): void {
  const decoder = new HpackDecoder();
  assert.deepEqual(decodeHex(decoder, blocks[0]), [...GET_HTTP_ROOT, AUTHORITY]);
  assert.equal(decoder.dynamicTableSize, 57);
  assert.deepEqual(dynamicEntries(decoder), [AUTHORITY]);

  assert.deepEqual(decodeHex(decoder, blocks[1]), [...GET_HTTP_ROOT, AUTHORITY, ['cache-control', 'no-cache']]);
  assert.equal(decoder.dynamicTableSize, 110);
  assert.deepEqual(dynamicEntries(decoder), [['cache-control', 'no-cache'], AUTHORITY]);

  assert.deepEqual(decodeHex(decoder, blocks[2]), [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    AUTHORITY,
    ['custom-key', 'custom-value'],
  ]);
  assert.equal(decoder.dynamicTableSize, 164);
  assert.equal(decoder.dynamicTableLength, 3);
  assert.deepEqual(dynamicEntries(decoder), [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], AUTHORITY]);
}

test('RFC 7541 C.3: three requests without Huffman coding share the dynamic table', () => {
  checkRequestSequence([
    '828684410f7777772e6578616d706c652e636f6d',
    '828684be58086e6f2d6361636865',
    '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
  ]);
});

test('RFC 7541 C.4: three requests with Huffman coding share the dynamic table', () => {
  checkRequestSequence(['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']);
});

const DATE_21: Field = ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'];
const DATE_22: Field = ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'];
const LOCATION: Field = ['location', 'https://www.example.com'];
const PRIVATE: Field = ['cache-control', 'private'];
const COOKIE: Field = ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'];

/** The three responses of C.5 (plain) and C.6 (Huffman) on a 256-octet table, which evicts. */
function checkResponseSequence(blocks: readonly [string, string, string]): void {
  const decoder = new HpackDecoder(256);
  assert.deepEqual(decodeHex(decoder, blocks[0]), [[':status', '302'], PRIVATE, DATE_21, LOCATION]);
  assert.equal(decoder.dynamicTableSize, 222);
  assert.deepEqual(dynamicEntries(decoder), [LOCATION, DATE_21, PRIVATE, [':status', '302']]);

  // Adding ':status 307' (42 octets) evicts ':status 302'.
  assert.deepEqual(decodeHex(decoder, blocks[1]), [[':status', '307'], PRIVATE, DATE_21, LOCATION]);
  assert.equal(decoder.dynamicTableSize, 222);
  assert.deepEqual(dynamicEntries(decoder), [[':status', '307'], LOCATION, DATE_21, PRIVATE]);

  assert.deepEqual(decodeHex(decoder, blocks[2]), [[':status', '200'], PRIVATE, DATE_22, LOCATION, ['content-encoding', 'gzip'], COOKIE]);
  assert.equal(decoder.dynamicTableSize, 215);
  assert.deepEqual(dynamicEntries(decoder), [COOKIE, ['content-encoding', 'gzip'], DATE_22]);
  assert.match(decodeError(decoder, [0x80 | 65]) ?? '', /beyond/);
}

test('RFC 7541 C.5: three responses without Huffman coding evict from a 256-octet table', () => {
  checkResponseSequence([
    '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
    '4803333037c1c0bf',
    '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
  ]);
});

test('RFC 7541 C.6: three responses with Huffman coding evict from a 256-octet table', () => {
  checkResponseSequence([
    '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
    '4883640effc1c0bf',
    '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
  ]);
});

test('index 0 is a compression error', () => {
  assert.match(decodeError(new HpackDecoder(), [0x80]) ?? '', /index 0/);
});

test('an index beyond the static and dynamic tables is a compression error', () => {
  assert.match(decodeError(new HpackDecoder(), [0x80 | 62]) ?? '', /beyond/);
  // Literal with incremental indexing whose name index (62) is beyond the empty dynamic table.
  assert.match(decodeError(new HpackDecoder(), [0x40 | 62, 0x00]) ?? '', /beyond/);
  // Literal without indexing, name index 70 (4-bit prefix 15, then 55).
  assert.match(decodeError(new HpackDecoder(), [0x0f, 55, 0x00]) ?? '', /beyond/);
  const decoder = new HpackDecoder();
  decodeHex(decoder, '828684410f7777772e6578616d706c652e636f6d');
  assert.equal(decodeError(decoder, [0x80 | 62]), undefined);
  assert.match(decodeError(decoder, [0x80 | 63]) ?? '', /beyond/);
});

test('a block cut inside a field is a compression error; cut between fields it is not', () => {
  const block = Buffer.from('828684410f7777772e6578616d706c652e636f6d', 'hex');
  for (let cut = 1; cut < block.length; cut++) {
    const error = new HpackDecoder().decode(block.subarray(0, cut), []);
    if (cut <= 3) assert.equal(error, undefined, `cut at ${cut}`);
    else assert.match(error ?? '', /truncated/, `cut at ${cut}`);
  }
});

test('a truncated integer is a compression error', () => {
  assert.equal(decodeError(new HpackDecoder(), [0xff]), 'truncated integer');
  assert.equal(decodeError(new HpackDecoder(), [0xff, 0x80]), 'truncated integer');
  assert.equal(decodeError(new HpackDecoder(), [0x00, 0x7f]), 'truncated integer');
});

test('an integer beyond 2^31 - 1 is a compression error, even spelt with zero octets', () => {
  assert.equal(decodeError(new HpackDecoder(), [0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'integer overflow');
  assert.equal(decodeError(new HpackDecoder(), [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 'integer overflow');
  // 2^31 - 1 itself parses (and then is simply an index beyond the tables).
  assert.match(decodeError(new HpackDecoder(), [0xff, 0x80, 0xff, 0xff, 0xff, 0x07]) ?? '', /index 2147483647 beyond/);
});

test('a size update up to the advertised maximum is accepted and evicts', () => {
  const decoder = new HpackDecoder();
  checkRequestSequenceQuietly(decoder);
  assert.equal(decoder.dynamicTableSize, 164);
  // 31 + 82 = 113 octets: the oldest entry (:authority, 57 octets) goes.
  assert.equal(decodeError(decoder, [0x3f, 82, 0x82]), undefined);
  assert.equal(decoder.dynamicTableLimit, 113);
  assert.equal(decoder.dynamicTableSize, 107);
  assert.deepEqual(dynamicEntries(decoder), [['custom-key', 'custom-value'], ['cache-control', 'no-cache']]);
  // Two updates at the start of one block (RFC 7541 §4.2): down to 0, then back to 4096.
  assert.equal(decodeError(decoder, [0x20, 0x3f, 0xe1, 0x1f, 0x82]), undefined);
  assert.equal(decoder.dynamicTableLimit, 4096);
  assert.equal(decoder.dynamicTableLength, 0);
});

function checkRequestSequenceQuietly(decoder: HpackDecoder): void {
  for (const hex of ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565']) {
    decodeHex(decoder, hex);
  }
}

test('a size update above the advertised maximum is a compression error', () => {
  // 31 + 98 + 31 * 128 = 4097.
  assert.match(decodeError(new HpackDecoder(), [0x3f, 0xe2, 0x1f]) ?? '', /above the limit 4096/);
  assert.match(decodeError(new HpackDecoder(100), [0x3f, 70]) ?? '', /above the limit 100/);
});

test('a size update after a header field is a compression error', () => {
  assert.match(decodeError(new HpackDecoder(), [0x82, 0x20]) ?? '', /after a header field/);
});

test('bad Huffman padding in a string literal is a compression error', () => {
  // :path (static name 4) without indexing, Huffman value of one octet: 'a' then padding 000.
  assert.equal(decodeError(new HpackDecoder(), [0x04, 0x81, 0x18]), 'invalid Huffman string');
  // A whole octet of padding after 'a'.
  assert.equal(decodeError(new HpackDecoder(), [0x04, 0x82, 0x1f, 0xff]), 'invalid Huffman string');
  assert.equal(decodeError(new HpackDecoder(), [0x04, 0x81, 0x1f]), undefined);
});

test('EOS inside a Huffman string literal is a compression error', () => {
  assert.equal(decodeError(new HpackDecoder(), [0x04, 0x84, 0xff, 0xff, 0xff, 0xff]), 'invalid Huffman string');
});

test('an entry larger than the whole table empties it and is not added', () => {
  const decoder = new HpackDecoder(256);
  decodeHex(decoder, '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d');
  assert.equal(decoder.dynamicTableLength, 4);
  const value = 'v'.repeat(300);
  const out: string[] = [];
  assert.equal(decoder.decode(encodeLiteralWithIndexing('x-big', value), out), undefined);
  assert.deepEqual(pairs(out), [['x-big', value]]);
  assert.equal(decoder.dynamicTableLength, 0);
  assert.equal(decoder.dynamicTableSize, 0);
});

/** A literal with incremental indexing and a new name (RFC 7541 §6.2.1), no Huffman. */
function encodeLiteralWithIndexing(name: string, value: string): Uint8Array {
  const stringBytes = (text: string): number[] => {
    const length = text.length < 127 ? [text.length] : [0x7f, ...integerTail(text.length - 127)];
    return [...length, ...Buffer.from(text, 'latin1')];
  };
  return Uint8Array.from([0x40, ...stringBytes(name), ...stringBytes(value)]);
}

function integerTail(rest: number): number[] {
  const out: number[] = [];
  for (; rest >= 128; rest = Math.floor(rest / 128)) out.push((rest % 128) | 0x80);
  out.push(rest);
  return out;
}

test('a header list over the limit is reported after the whole block updated the table', () => {
  // :method GET (42 octets) + x-a: 12345 (40 octets) = 82 octets fit a limit of 82 exactly.
  const atLimit = new HpackDecoder(4096, 82);
  const fitting = Buffer.concat([Buffer.from([0x82]), encodeLiteralWithIndexing('x-a', '12345')]);
  assert.equal(atLimit.decode(fitting, []), undefined);

  const decoder = new HpackDecoder(4096, 81);
  const out: string[] = [];
  const error = decoder.decode(Buffer.concat([fitting, encodeLiteralWithIndexing('x-b', 'after')]), out);
  assert.match(error ?? '', /^header list too large/);
  // Both literals still entered the dynamic table, so the next block's references resolve.
  assert.equal(decoder.dynamicTableLength, 2);
  const next: string[] = [];
  assert.equal(decoder.decode(Uint8Array.of(0x80 | 62, 0x80 | 63), next), undefined);
  assert.deepEqual(pairs(next), [['x-b', 'after'], ['x-a', '12345']]);
});

test('a plain Uint8Array block decodes like a Buffer', () => {
  const bytes = Uint8Array.from(Buffer.from('00828684410f7777772e6578616d706c652e636f6d', 'hex'));
  const out: string[] = [];
  assert.equal(new HpackDecoder().decode(bytes.subarray(1), out), undefined);
  assert.deepEqual(pairs(out), [...GET_HTTP_ROOT, AUTHORITY]);
});

test('random header lists survive encodeHeaderBlock then HpackDecoder, leaving the table empty', () => {
  const rand = seededRand(20251124);
  const decoder = new HpackDecoder();
  const randomText = (length: number, alphabet: string | undefined): string => {
    let text = '';
    for (let i = 0; i < length; i++) {
      text += alphabet === undefined ? String.fromCharCode(rand.intn(256)) : alphabet[rand.intn(alphabet.length)]!;
    }
    return text;
  };
  for (let round = 0; round < 500; round++) {
    const fields: Field[] = [];
    const count = rand.intn(20);
    for (let i = 0; i < count; i++) {
      const pick = rand.intn(4);
      if (pick === 0) {
        fields.push([...STATIC_TABLE[rand.intn(STATIC_TABLE.length)]!]);
        continue;
      }
      const name = pick === 1 ? STATIC_TABLE[rand.intn(STATIC_TABLE.length)]![0] : randomText(1 + rand.intn(rand.intn(8) === 0 ? 200 : 20), 'abcdefghijklmnopqrstuvwxyz0123456789-_');
      const length = rand.intn(8) === 0 ? rand.intn(20000) : rand.intn(40);
      fields.push([name, randomText(length, rand.intn(2) === 0 ? undefined : 'abc/:=. 0123456789')]);
    }
    const out: string[] = [];
    assert.equal(decoder.decode(encodeHeaderBlock(fields), out), undefined, `round ${round}`);
    assert.deepEqual(pairs(out), fields, `round ${round}`);
  }
  assert.equal(decoder.dynamicTableLength, 0);
});
