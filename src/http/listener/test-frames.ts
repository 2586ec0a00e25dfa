/** HTTP/2 bytes for the listener's tests: `:authority` header fields (frames and the preface: src/pkg/h2/frames.ts). */

/** `s` as bytes, from hex. */
export const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** `:authority: http://127.0.0.1:2379` as etcd 3.4 clients send it (literal, incremental indexing, Huffman). */
export const URL_AUTHORITY = hex('418f9d29aee30c044eae05c0b86e09975f');

/** `:authority: 127.0.0.1:2379`, what the rewriter turns it into (literal, not Huffman-coded). */
export const PLAIN_AUTHORITY = Buffer.concat([hex('410e'), Buffer.from('127.0.0.1:2379')]);
