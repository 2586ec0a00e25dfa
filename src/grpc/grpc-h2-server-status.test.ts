// The answers the HTTP/2 gRPC edge decides itself, pinned to what etcd 3.4.23 (grpc-go 1.33)
// answers the same raw HTTP/2 requests: recorded with node:http2 against
// `etcd --max-request-bytes 4096` (receive limit 4096 + 512 KiB = 528384 bytes). Also the exact
// response header and trailer blocks, and that bad input leaves the member and the connection
// serving.
import assert from 'node:assert/strict';
import { connect, type OutgoingHttpHeaders } from 'node:http2';
import { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import * as pb from '../api/gen/etcdserverpb.js';
import { grpcMessage, grpcRequestHeaders, rawRequest, serviceClient, startTestEdge, unary, type RawAnswer, type TestEdge } from './h2-test-edge.js';

const RANGE_A = Buffer.from([0x0a, 0x01, 0x61]); // RangeRequest{key: "a"}
const PUT_A = Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62]); // PutRequest{key: "a", value: "b"}
const TRUNCATED_KEY = Buffer.from([0x0a, 0x7f]); // field 1 claims 127 bytes, none follow
const PROTOCOL_ERROR = 1;

/** What etcd answered: a reset stream, a status alone (trailers-only), or a served call. */
type EtcdAnswer = { rst: number } | { code: number; message: string; contentType?: string } | { ok: true; contentType?: string };

interface Case {
  name: string;
  headers: OutgoingHttpHeaders;
  chunks: Buffer[];
  etcd: EtcdAnswer;
}

const kvRange = (extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders => grpcRequestHeaders('/etcdserverpb.KV/Range', extra);

const CASES: Case[] = [
  // Routing (grpc-go's Server.handleStream).
  { name: 'unknown service in etcd\'s package', headers: grpcRequestHeaders('/etcdserverpb.Lock/Lock'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown service etcdserverpb.Lock' } },
  { name: 'unknown service', headers: grpcRequestHeaders('/foo.Bar/Baz'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown service foo.Bar' } },
  { name: 'unknown service, no body', headers: grpcRequestHeaders('/foo.Bar/Baz'), chunks: [], etcd: { code: 12, message: 'unknown service foo.Bar' } },
  { name: 'unknown method of a known service', headers: grpcRequestHeaders('/etcdserverpb.KV/Foo'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown method Foo for service etcdserverpb.KV' } },
  { name: 'empty method name', headers: grpcRequestHeaders('/etcdserverpb.KV/'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown method  for service etcdserverpb.KV' } },
  { name: 'path split at its last slash', headers: grpcRequestHeaders('/a/b/c'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown service a/b' } },
  { name: 'path without a method', headers: grpcRequestHeaders('/foo'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 8, message: 'malformed method name: "/foo"' } },
  { name: 'empty path', headers: grpcRequestHeaders(''), chunks: [grpcMessage(RANGE_A)], etcd: { code: 8, message: 'malformed method name: ""' } },
  { name: 'path quoted as Go quotes', headers: grpcRequestHeaders('/a"\\b'), chunks: [grpcMessage(RANGE_A)], etcd: { code: 8, message: 'malformed method name: "/a\\"\\\\b"' } },

  // The request's message (grpc-go's parser and recvAndDecompress).
  { name: 'message above the receive limit', headers: grpcRequestHeaders('/etcdserverpb.KV/Put'), chunks: [grpcMessage(Buffer.alloc(600_000, 0x61))], etcd: { code: 8, message: 'grpc: received message larger than max (600000 vs. 528384)' } },
  { name: 'prefix claiming a message above the limit', headers: grpcRequestHeaders('/etcdserverpb.KV/Put'), chunks: [Buffer.from([0, 0, 0x10, 0, 0])], etcd: { code: 8, message: 'grpc: received message larger than max (1048576 vs. 528384)' } },
  { name: 'empty body', headers: kvRange(), chunks: [], etcd: { code: 2, message: 'EOF' } },
  { name: 'empty message: the handler validates it', headers: kvRange(), chunks: [grpcMessage(Buffer.alloc(0))], etcd: { code: 3, message: 'etcdserver: key is not provided' } },
  { name: 'truncated prefix', headers: kvRange(), chunks: [Buffer.from([0, 0, 0])], etcd: { code: 2, message: 'unexpected EOF' } },
  { name: 'truncated message', headers: kvRange(), chunks: [grpcMessage(RANGE_A).subarray(0, 6)], etcd: { code: 2, message: 'unexpected EOF' } },
  { name: 'protobuf cut short', headers: kvRange(), chunks: [grpcMessage(TRUNCATED_KEY)], etcd: { code: 13, message: 'grpc: error unmarshalling request: unexpected EOF' } },
  { name: 'two messages: the first is served', headers: kvRange(), chunks: [grpcMessage(RANGE_A), grpcMessage(Buffer.from([0x0a, 0x01, 0x62]))], etcd: { ok: true } },
  { name: 'a message and a partial one: the first is served', headers: kvRange(), chunks: [grpcMessage(RANGE_A), Buffer.from([0, 0])], etcd: { ok: true } },
  { name: 'compressed flag without grpc-encoding', headers: kvRange(), chunks: [grpcMessage(RANGE_A, 1)], etcd: { code: 13, message: 'grpc: compressed flag set with identity or empty encoding' } },
  { name: 'compressed flag with identity encoding', headers: kvRange({ 'grpc-encoding': 'identity' }), chunks: [grpcMessage(RANGE_A, 1)], etcd: { code: 13, message: 'grpc: compressed flag set with identity or empty encoding' } },
  { name: 'compressed flag on a truncated message', headers: kvRange(), chunks: [grpcMessage(RANGE_A, 1).subarray(0, 6)], etcd: { code: 2, message: 'unexpected EOF' } },
  { name: 'payload format 2', headers: kvRange(), chunks: [grpcMessage(RANGE_A, 2)], etcd: { code: 13, message: 'grpc: received unexpected payload format 2' } },

  // Compression: etcd 3.4 installs no decompressor, gzip included.
  { name: 'gzip', headers: kvRange({ 'grpc-encoding': 'gzip' }), chunks: [grpcMessage(RANGE_A, 1)], etcd: { code: 12, message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' } },
  { name: 'gzip on a message not flagged', headers: kvRange({ 'grpc-encoding': 'gzip' }), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' } },
  { name: 'deflate', headers: kvRange({ 'grpc-encoding': 'deflate' }), chunks: [grpcMessage(RANGE_A, 1)], etcd: { code: 12, message: 'grpc: Decompressor is not installed for grpc-encoding "deflate"' } },
  { name: 'encoding quoted as Go quotes', headers: kvRange({ 'grpc-encoding': 'x"y' }), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'grpc: Decompressor is not installed for grpc-encoding "x\\"y"' } },
  { name: 'unknown method before compression', headers: grpcRequestHeaders('/foo.Bar/Baz', { 'grpc-encoding': 'snappy' }), chunks: [grpcMessage(RANGE_A, 1)], etcd: { code: 12, message: 'unknown service foo.Bar' } },
  { name: 'accepting gzip answers uncompressed', headers: kvRange({ 'grpc-accept-encoding': 'gzip' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },

  // HTTP: grpc-go reads no :method, and resets a request whose content type is not gRPC.
  { name: 'GET', headers: kvRange({ ':method': 'GET' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },
  { name: 'PUT', headers: kvRange({ ':method': 'PUT' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },
  { name: 'GET without a body', headers: kvRange({ ':method': 'GET' }), chunks: [], etcd: { code: 2, message: 'EOF' } },
  { name: 'text/plain', headers: kvRange({ 'content-type': 'text/plain' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'application/json', headers: kvRange({ 'content-type': 'application/json' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'no content-type', headers: { ':method': 'POST', ':path': '/etcdserverpb.KV/Range' }, chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'content-type in capitals', headers: kvRange({ 'content-type': 'Application/grpc' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'application/grpcx', headers: kvRange({ 'content-type': 'application/grpcx' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'GET / (HTTP, not gRPC)', headers: { ':method': 'GET', ':path': '/' }, chunks: [], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'application/grpc+proto is answered in kind', headers: kvRange({ 'content-type': 'application/grpc+proto' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true, contentType: 'application/grpc+proto' } },
  { name: 'application/grpc+json is still decoded as protobuf', headers: kvRange({ 'content-type': 'application/grpc+json' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true, contentType: 'application/grpc+json' } },
  { name: 'application/grpc;foo', headers: kvRange({ 'content-type': 'application/grpc;foo' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true, contentType: 'application/grpc+foo' } },
  { name: 'a status answers in the request\'s content type', headers: grpcRequestHeaders('/foo.Bar/Baz', { 'content-type': 'application/grpc+proto' }), chunks: [grpcMessage(RANGE_A)], etcd: { code: 12, message: 'unknown service foo.Bar', contentType: 'application/grpc+proto' } },
  { name: 'without te', headers: { ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc' }, chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },

  // grpc-timeout: one grpc-go cannot parse resets the stream, before routing.
  { name: 'grpc-timeout 5S', headers: kvRange({ 'grpc-timeout': '5S' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },
  { name: 'grpc-timeout with a sign', headers: kvRange({ 'grpc-timeout': '+5S' }), chunks: [grpcMessage(RANGE_A)], etcd: { ok: true } },
  { name: 'grpc-timeout not a number', headers: kvRange({ 'grpc-timeout': 'xyz' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'grpc-timeout of 9 digits', headers: kvRange({ 'grpc-timeout': '123456789S' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'grpc-timeout unit', headers: kvRange({ 'grpc-timeout': '5x' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },
  { name: 'grpc-timeout before routing', headers: grpcRequestHeaders('/foo.Bar/Baz', { 'grpc-timeout': 'xyz' }), chunks: [grpcMessage(RANGE_A)], etcd: { rst: PROTOCOL_ERROR } },

  // Streaming calls read requests with grpc-go's RecvMsg, which words its failures differently.
  { name: 'Watch: truncated prefix', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [Buffer.from([0, 0, 0])], etcd: { code: 13, message: 'unexpected EOF' } },
  { name: 'Watch: truncated message', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [grpcMessage(RANGE_A).subarray(0, 6)], etcd: { code: 13, message: 'unexpected EOF' } },
  { name: 'Watch: protobuf cut short', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [grpcMessage(TRUNCATED_KEY)], etcd: { code: 13, message: 'grpc: failed to unmarshal the received message unexpected EOF' } },
  { name: 'Watch: compressed flag', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [grpcMessage(Buffer.alloc(0), 1)], etcd: { code: 13, message: 'grpc: compressed flag set with identity or empty encoding' } },
  { name: 'Watch: payload format 2', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [grpcMessage(Buffer.alloc(0), 2)], etcd: { code: 13, message: 'grpc: received unexpected payload format 2' } },
  { name: 'Watch: message above the limit', headers: grpcRequestHeaders('/etcdserverpb.Watch/Watch'), chunks: [Buffer.from([0, 0, 0x10, 0, 0])], etcd: { code: 8, message: 'grpc: received message larger than max (1048576 vs. 528384)' } },
  { name: 'LeaseKeepAlive: truncated prefix', headers: grpcRequestHeaders('/etcdserverpb.Lease/LeaseKeepAlive'), chunks: [Buffer.from([0, 0, 0])], etcd: { code: 13, message: 'unexpected EOF' } },
  { name: 'LeaseKeepAlive: no request', headers: grpcRequestHeaders('/etcdserverpb.Lease/LeaseKeepAlive'), chunks: [], etcd: { code: 0, message: '' } },
  { name: 'Snapshot: no request', headers: grpcRequestHeaders('/etcdserverpb.Maintenance/Snapshot'), chunks: [], etcd: { code: 2, message: 'EOF' } },
  { name: 'Snapshot: truncated prefix', headers: grpcRequestHeaders('/etcdserverpb.Maintenance/Snapshot'), chunks: [Buffer.from([0, 0, 0])], etcd: { code: 13, message: 'unexpected EOF' } },
  { name: 'Snapshot: protobuf cut short', headers: grpcRequestHeaders('/etcdserverpb.Maintenance/Snapshot'), chunks: [grpcMessage(TRUNCATED_KEY)], etcd: { code: 13, message: 'grpc: failed to unmarshal the received message unexpected EOF' } },
];

let t: TestEdge;

before(async () => {
  t = await startTestEdge({ flags: ['--max-request-bytes=4096'] });
  const kv = serviceClient('KV', t.address);
  try {
    assert.equal((await unary(kv, 'Put', pb.PutRequest.decode(PUT_A))).err, undefined);
  } finally {
    kv.close();
  }
});

after(() => t.close());

/** Asserts that `got` is `etcd`'s answer, header and trailer blocks exactly. */
function assertEtcdAnswer(got: RawAnswer, etcd: EtcdAnswer, name: string): void {
  if ('rst' in etcd) {
    assert.equal(got.rstCode, etcd.rst, `${name}: RST_STREAM code`);
    assert.deepEqual(got.headers, {}, `${name}: no response headers`);
    return;
  }
  assert.equal(got.rstCode, 0, `${name}: not reset`);
  const contentType = etcd.contentType ?? 'application/grpc';
  if ('ok' in etcd) {
    assert.deepEqual(got.headers, { ':status': 200, 'content-type': contentType }, `${name}: response headers`);
    assert.deepEqual(got.trailers, { 'grpc-status': '0', 'grpc-message': '' }, `${name}: trailers`);
    assert.equal(got.body.readUInt32BE(1), got.body.length - 5, `${name}: one whole message`);
    const res = pb.RangeResponse.decode(got.body.subarray(5));
    assert.equal(Buffer.from(res.kvs[0]!.key).toString(), 'a', `${name}: the first request was served`);
    return;
  }
  // A status alone: one header block ending the stream, content-type included, no trailers.
  assert.deepEqual(got.headers, { ':status': 200, 'content-type': contentType, 'grpc-status': String(etcd.code), 'grpc-message': etcd.message }, name);
  assert.deepEqual(got.trailers, {}, `${name}: trailers-only`);
  assert.equal(got.body.length, 0, `${name}: no body`);
}

test('statuses the edge decides itself equal etcd 3.4\'s, header blocks included', async () => {
  for (const c of CASES) {
    assertEtcdAnswer(await rawRequest(t.address, c.headers, c.chunks), c.etcd, c.name);
  }
});

test('the same answers come back on one connection, one request after another and all at once', async () => {
  const session = connect(`http://${t.address}`);
  try {
    for (const c of CASES) assertEtcdAnswer(await rawRequest(session, c.headers, c.chunks), c.etcd, `${c.name} (shared connection)`);
    const all = await Promise.all(CASES.map((c) => rawRequest(session, c.headers, c.chunks)));
    all.forEach((got, i) => assertEtcdAnswer(got, CASES[i]!.etcd, `${CASES[i]!.name} (concurrent)`));
  } finally {
    session.close();
  }
});

test('a streamed answer: headers, messages, then trailers with grpc-status and grpc-message only', async () => {
  const snapshot = await rawRequest(t.address, grpcRequestHeaders('/etcdserverpb.Maintenance/Snapshot'), [grpcMessage(Buffer.alloc(0))]);
  assert.deepEqual(snapshot.headers, { ':status': 200, 'content-type': 'application/grpc' });
  assert.deepEqual(snapshot.trailers, { 'grpc-status': '0', 'grpc-message': '' });
  assert.ok(snapshot.body.length > 32);

  // A watch stream that fails after its first response: the status comes in trailers.
  const session = connect(`http://${t.address}`);
  try {
    const req = session.request(grpcRequestHeaders('/etcdserverpb.Watch/Watch'));
    const got: { headers?: object; trailers?: object; bytes: number } = { bytes: 0 };
    req.on('response', (h) => (got.headers = Object.fromEntries(Object.entries(h))));
    req.on('trailers', (h) => (got.trailers = Object.fromEntries(Object.entries(h))));
    req.on('data', (d: Buffer) => {
      if (got.bytes === 0) req.write(grpcMessage(TRUNCATED_KEY));
      got.bytes += d.length;
    });
    const closed = new Promise((resolve) => req.on('close', resolve));
    req.write(grpcMessage(pb.WatchRequest.encode(pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest({ key: Buffer.from('a') }) }))));
    await closed;
    assert.ok(got.bytes > 0, 'the created response came first');
    assert.deepEqual(got.headers, { ':status': 200, 'content-type': 'application/grpc' });
    assert.deepEqual(got.trailers, { 'grpc-status': '13', 'grpc-message': 'grpc: failed to unmarshal the received message unexpected EOF' });
  } finally {
    session.close();
  }
});

// etcd's grpc-go 1.33 never answers these (it leaves a stream whose HEADERS carried END_STREAM
// unread); the edge answers as grpc-go does when the end comes on a DATA frame.
test('a request ending on its HEADERS frame is answered as one ending on an empty DATA frame', async () => {
  const unaryAnswer = await rawRequest(t.address, kvRange(), [], true);
  assertEtcdAnswer(unaryAnswer, { code: 2, message: 'EOF' }, 'unary');
  const snapshot = await rawRequest(t.address, grpcRequestHeaders('/etcdserverpb.Maintenance/Snapshot'), [], true);
  assertEtcdAnswer(snapshot, { code: 2, message: 'EOF' }, 'snapshot');
});

// node:http2 sends a header's characters as latin1 octets, so 'é' goes out as the one octet 0xe9
// (not UTF-8), and 'Ã©' as 0xc3 0xa9 (UTF-8 for 'é'). Recorded from etcd the same way.
test('header octets in texts: percent-encoded as UTF-8 (invalid octets as U+FFFD), quoted as Go quotes them', async () => {
  const ask = async (path: string): Promise<unknown> => (await rawRequest(t.address, grpcRequestHeaders(path), [grpcMessage(RANGE_A)])).headers['grpc-message'];
  assert.equal(await ask('/Ã©tcd.KV/Range'), 'unknown service %C3%A9tcd.KV');
  assert.equal(await ask('/étcd.KV/Range'), 'unknown service %EF%BF%BDtcd.KV');
  assert.equal(await ask('/Ã©'), 'malformed method name: "/%C3%A9"');
  assert.equal(await ask('/é'), 'malformed method name: "/\\xe9"');
});

test('a connection sending garbage is closed without disturbing the member or other connections', async () => {
  const kv = serviceClient('KV', t.address);
  try {
    assert.equal((await unary(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('a') }))).err, undefined);
    const [host, port] = t.address.split(':');
    const closed = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.on('error', () => undefined);
      socket.on('data', () => undefined); // read, so that the server's end of the connection is seen
      socket.on('close', () => resolve(true));
      socket.connect(Number(port), host!, () => {
        socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        socket.write(Buffer.from([0, 0, 4, 0x01, 0x05, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff])); // HEADERS on an even stream, bad HPACK
        socket.write(Buffer.alloc(64, 0xee));
      });
    });
    assert.equal(closed, true);
    const got = await unary<pb.RangeResponse>(kv, 'Range', pb.createRangeRequest({ key: Buffer.from('a') }));
    assert.equal(got.err, undefined);
    assert.equal(got.res!.count, 1);
  } finally {
    kv.close();
  }
});
