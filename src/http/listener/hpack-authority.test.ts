import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repairAuthority, rewriteAuthorityInBlock } from './hpack-authority.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

test('repairAuthority strips a scheme and a path, and leaves authorities alone', () => {
  assert.equal(repairAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379');
  assert.equal(repairAuthority('https://etcd.example:2379/'), 'etcd.example:2379');
  assert.equal(repairAuthority('127.0.0.1:2379'), '127.0.0.1:2379');
  assert.equal(repairAuthority('localhost'), 'localhost');
});

// Header blocks made by the hpack reference encoder (python3-hpack, Huffman on) for an etcd
// Range call whose authority is the endpoint URL, as etcd 3.4's etcdctl sends it.
const PREFIX = '8386449060a924882d9dcb6571af9b8b1b4754c5'; // :method POST, :scheme http, :path /etcdserverpb.KV/Range
const SUFFIX = '5f8b1d75d0620d263d4c4d65644082497f864d833505b11f'; // content-type application/grpc, te trailers

test('a Huffman-coded literal :authority with a scheme is rewritten in place', () => {
  const block = hex(`${PREFIX}418f9d29aee30c044eae05c0b86e09975f${SUFFIX}`);
  const out = rewriteAuthorityInBlock(block);
  assert.ok(out !== undefined);
  assert.equal(out.toString('hex'), `${PREFIX}410e${ascii('127.0.0.1:2379')}${SUFFIX}`);
});

test('indexed fields, valid authorities and other headers are left as they are', () => {
  assert.equal(rewriteAuthorityInBlock(hex('8386c1c0bfbe')), undefined);
  assert.equal(rewriteAuthorityInBlock(hex(`410e${ascii('127.0.0.1:2379')}44022f61`)), undefined);
});

test('literal names, never-indexed and without-indexing forms are rewritten too', () => {
  const value = ascii('http://h:1');
  // Literal without indexing, new name ":authority" (0x00, name string, value string).
  const literalName = hex(`000a${ascii(':authority')}0a${value}`);
  assert.equal(rewriteAuthorityInBlock(literalName)!.toString('hex'), `000a${ascii(':authority')}03${ascii('h:1')}`);
  // Never indexed, static name index 1.
  assert.equal(rewriteAuthorityInBlock(hex(`110a${value}`))!.toString('hex'), `1103${ascii('h:1')}`);
  // Without indexing, static name index 1, after a dynamic table size update.
  assert.equal(rewriteAuthorityInBlock(hex(`20010a${value}`))!.toString('hex'), `2001${ascii('')}03${ascii('h:1')}`);
});

test('a truncated block is passed back as unreadable', () => {
  assert.equal(rewriteAuthorityInBlock(hex('418f9d29')), undefined);
});
