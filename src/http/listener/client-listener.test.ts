import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type RequestListener } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nopLogger } from '../../pkg/logger.js';
import { CLIENT_PREFACE } from '../../pkg/h2/frames.js';
import { sniffProtocol, startClientListener } from './client-listener.js';

// A tiny unary service with raw Buffer messages: the reply is "echo:" + the request.
const echoService: grpc.ServiceDefinition = {
  Echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

function echoServer(): grpc.Server {
  const server = new grpc.Server();
  server.addService(echoService, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, Buffer.concat([Buffer.from('echo:'), call.request]));
    },
  });
  return server;
}

const httpHandler: RequestListener = (req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => res.end(`http:${req.method}:${req.url}:${body}`));
};

async function grpcEcho(target: string, text: string): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
  const client = new Client(target, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) => {
      (client as unknown as { Echo: (req: Buffer, cb: (err: Error | null, res?: Buffer) => void) => void }).Echo(Buffer.from(text), (err, res) => {
        if (err !== null) reject(err);
        else resolve(res!.toString());
      });
    });
  } finally {
    client.close();
  }
}

test('a unix URL with a path is refused with etcd\'s text', async () => {
  await assert.rejects(startClientListener({ url: 'unix:///tmp/x.sock', httpHandler, logger: nopLogger }), {
    message: 'URL address does not have the form "host:port": unix:///tmp/x.sock',
  });
});

test('sniffProtocol: the HTTP/2 preface means gRPC, anything else HTTP, a prefix waits', () => {
  assert.equal(sniffProtocol(CLIENT_PREFACE), 'grpc');
  assert.equal(sniffProtocol(Buffer.concat([CLIENT_PREFACE, Buffer.from([0, 0, 0])])), 'grpc');
  assert.equal(sniffProtocol(CLIENT_PREFACE.subarray(0, 10)), undefined);
  assert.equal(sniffProtocol(Buffer.from('P')), undefined);
  assert.equal(sniffProtocol(Buffer.from('POST / HTTP/1.1')), 'http');
  assert.equal(sniffProtocol(Buffer.from('GET /health HTTP/1.1')), 'http');
});

test('one port serves a real gRPC call and real HTTP/1.1 requests', async () => {
  const grpcServer = echoServer();
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger });
  try {
    assert.match(listener.address, /^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${listener.address}/health?x=1`);
    assert.equal(await res.text(), 'http:GET:/health?x=1:');
    assert.equal(await grpcEcho(listener.address, 'hello'), 'echo:hello');
    // Both kinds again, interleaved and concurrent, on the same port.
    const [a, b, c] = await Promise.all([
      grpcEcho(listener.address, 'one'),
      fetch(`http://${listener.address}/v2/keys`, { method: 'PUT', body: 'v' }).then((r) => r.text()),
      grpcEcho(listener.address, 'two'),
    ]);
    assert.deepEqual([a, b, c], ['echo:one', 'http:PUT:/v2/keys:v', 'echo:two']);
  } finally {
    await listener.close();
    grpcServer.forceShutdown();
  }
});

test('an HTTP request whose first byte matches the preface is still HTTP', async () => {
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', httpHandler, logger: nopLogger });
  try {
    const [host, port] = listener.address.split(':');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), host, () => {
        socket.write('P');
        setTimeout(() => socket.write('OST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 20);
      });
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 200 OK/);
    assert.match(reply, /http:POST:\/split:ok$/);
  } finally {
    await listener.close();
  }
});

test('without a gRPC server, HTTP/2 connections are closed and HTTP still works', async () => {
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', httpHandler, logger: nopLogger });
  try {
    await assert.rejects(grpcEcho(listener.address, 'x'));
    assert.equal(await (await fetch(`http://${listener.address}/a`)).text(), 'http:GET:/a:');
  } finally {
    await listener.close();
  }
});

test('unix URLs listen on a socket file named by the URL\'s host:port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-listener-'));
  const grpcServer = echoServer();
  try {
    // etcd's unix URLs name a socket file relative to the working directory
    // (unix://localhost:2379); an absolute path keeps the test out of the checkout.
    const path = join(dir, 'client.sock:0');
    const url = { scheme: 'unix', host: path, hostname: path.slice(0, -2), port: '0', text: `unix://${path}` };
    const listener = await startClientListener({ url, grpcServer, httpHandler, logger: nopLogger });
    try {
      assert.equal(listener.address, path);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ socketPath: path, path: '/over-unix' }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(data));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, 'http:GET:/over-unix:');
      assert.equal(await grpcEcho(`unix://${path}`, 'sock'), 'echo:sock');
    } finally {
      await listener.close();
    }
  } finally {
    grpcServer.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close releases the port even with open connections, and a busy port fails like etcd', async () => {
  const grpcServer = echoServer();
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger });
  const address = listener.address;
  await assert.rejects(
    startClientListener({ url: `http://${address}`, httpHandler, logger: nopLogger }),
    { message: `listen tcp ${address}: bind: address already in use` },
  );
  const [host, port] = address.split(':');
  const idle = connect(Number(port), host);
  await new Promise((resolve) => idle.once('connect', resolve));
  await grpcEcho(address, 'x');
  await listener.close();
  grpcServer.forceShutdown();
  const again = await startClientListener({ url: `http://${address}`, httpHandler, logger: nopLogger });
  await again.close();
  idle.destroy();
});

/** A raw HTTP/2 gRPC call on `session` with a chosen :authority: grpc-status, reply text, reset code. */
function rawGrpcEcho(session: ClientHttp2Session, authority: string, text: string): Promise<{ status: string | undefined; reply: string; rstCode: number }> {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => (status = t['grpc-status'] as string | undefined));
    req.on('error', () => {});
    req.on('close', () => {
      const body = Buffer.concat(chunks);
      resolve({ status, reply: body.length > 5 ? body.subarray(5).toString() : '', rstCode: req.rstCode ?? 0 });
    });
    const message = Buffer.from(text);
    const framed = Buffer.alloc(5 + message.length);
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, 5);
    req.end(framed);
  });
}

test('gRPC calls whose :authority is a URL (etcd 3.4 clients) are repaired, not reset', async () => {
  const grpcServer = echoServer();
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger });
  const session = http2Connect(`http://${listener.address}`);
  try {
    // Repeated on one connection, so later calls refer to the first one's table entry.
    for (const authority of [`http://${listener.address}`, `http://${listener.address}`, listener.address, `https://${listener.address}/x`]) {
      assert.deepEqual(await rawGrpcEcho(session, authority, 'url'), { status: '0', reply: 'echo:url', rstCode: 0 }, authority);
    }
    assert.deepEqual(listener.grpcConnections, { native: 0, repaired: 1 });
  } finally {
    session.close();
    await listener.close();
    grpcServer.forceShutdown();
  }
});

test('connections whose first request has a valid authority get their own socket, the others the rewriter', async () => {
  const grpcServer = echoServer();
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger });
  try {
    // grpc-js waits for the server's SETTINGS before its first request, as grpc-go does.
    assert.equal(await grpcEcho(listener.address, 'native'), 'echo:native');
    assert.equal(await grpcEcho(listener.address, 'again'), 'echo:again');
    assert.deepEqual(listener.grpcConnections, { native: 2, repaired: 0 });
    const session = http2Connect(`http://${listener.address}`);
    try {
      assert.deepEqual(await rawGrpcEcho(session, `http://${listener.address}`, 'url'), { status: '0', reply: 'echo:url', rstCode: 0 });
      assert.deepEqual(await rawGrpcEcho(session, listener.address, 'plain'), { status: '0', reply: 'echo:plain', rstCode: 0 });
    } finally {
      session.close();
    }
    assert.deepEqual(listener.grpcConnections, { native: 2, repaired: 1 });
  } finally {
    await listener.close();
    grpcServer.forceShutdown();
  }
});

test('a connection idle past the probe goes through the rewriter and its URL authority still works', async () => {
  const grpcServer = echoServer();
  const probeLimits = { firstRequestMs: 50, ackMs: 5000, maxHeldBytes: 1 << 20 };
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger, probeLimits });
  const session = http2Connect(`http://${listener.address}`);
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(listener.grpcConnections, { native: 0, repaired: 1 });
    assert.deepEqual(await rawGrpcEcho(session, `http://${listener.address}`, 'late'), { status: '0', reply: 'echo:late', rstCode: 0 });
  } finally {
    session.close();
    await listener.close();
    grpcServer.forceShutdown();
  }
});

test('a client that never acknowledges the SETTINGS is dropped, and the port keeps serving', async () => {
  const grpcServer = echoServer();
  const probeLimits = { firstRequestMs: 50, ackMs: 100, maxHeldBytes: 1 << 20 };
  const listener = await startClientListener({ url: 'http://127.0.0.1:0', grpcServer, httpHandler, logger: nopLogger, probeLimits });
  try {
    const [host, port] = [listener.address.split(':')[0]!, Number(listener.address.split(':')[1])];
    const silent = connect(port, host);
    const received: Buffer[] = [];
    silent.on('data', (b: Buffer) => received.push(b));
    silent.write(CLIENT_PREFACE);
    silent.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // our SETTINGS, never an ACK
    await new Promise<void>((resolve) => silent.on('close', () => resolve()));
    assert.deepEqual(Buffer.concat(received).subarray(0, 9), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), 'the server sent an empty SETTINGS frame first');
    assert.deepEqual(listener.grpcConnections, { native: 0, repaired: 0 });
    assert.equal(await grpcEcho(listener.address, 'still'), 'echo:still');
  } finally {
    await listener.close();
    grpcServer.forceShutdown();
  }
});
