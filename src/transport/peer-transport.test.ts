import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { encodeMessage } from '../api/raftpb/codec.js';
import { MessageType, newMessage } from '../api/raftpb/types.js';
import { PEER_PROTOCOL_VERSION, PeerHeader, RAFT_STREAM_PATH, UPGRADE_TOKEN } from './peer-handshake.js';
import { connectAll, freePort, msgApp, startMember, stopMember, waitFor, type TestMember } from './test-kit.js';

function indexesFrom(m: TestMember, from: bigint): number[] {
  return m.raft.received.filter((x) => x.from === from).map((x) => x.index);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

test('two transports exchange messages both ways, in order, across many loop turns', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    connectAll([a, b]);
    for (let turn = 0; turn < 20; turn++) {
      const batch = range(50).map((i) => msgApp(1n, 2n, turn * 50 + i, 16, 100));
      a.transport.send(batch);
      b.transport.send(range(50).map((i) => msgApp(2n, 1n, turn * 50 + i, 1, 10)));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.raft.received.length === 1000 && a.raft.received.length === 1000, 5000, 'all messages');
    assert.deepEqual(indexesFrom(b, 1n), range(1000));
    assert.deepEqual(indexesFrom(a, 2n), range(1000));
    const got = b.raft.received[999]!;
    assert.equal(got.entries.length, 16);
    assert.ok(Buffer.from(got.entries[15]!.data).equals(Buffer.alloc(100, 15)));
    const sa = a.transport.stats.peers[0]!;
    assert.equal(sa.sentMessages, 1000);
    assert.ok(sa.sentBatches <= 40, `expected batched writes, got ${sa.sentBatches}`);
    assert.equal(sa.droppedMessages, 0);
    assert.ok(a.transport.activeSince(2n) !== undefined);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('three transports: every member receives every other member’s messages in order', async () => {
  const ms = [await startMember(1n), await startMember(2n), await startMember(3n)];
  try {
    connectAll(ms);
    for (let i = 0; i < 300; i++) {
      for (const from of ms) {
        from.transport.send(ms.filter((to) => to !== from).map((to) => msgApp(from.id, to.id, i, 2, 20)));
      }
      if (i % 37 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => ms.every((m) => m.raft.received.length === 600), 5000, 'all messages');
    for (const to of ms) for (const from of ms) if (from !== to) assert.deepEqual(indexesFrom(to, from.id), range(300));
  } finally {
    for (const m of ms) await stopMember(m);
  }
});

test('a peer started later receives once the sender has redialed it; the sender reported it unreachable meanwhile', async () => {
  const port = await freePort();
  const a = await startMember(1n);
  let b: TestMember | undefined;
  try {
    a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
    a.transport.send([msgApp(1n, 2n, 0)]);
    await waitFor(() => a.raft.unreachable.includes(2n), 2000, 'reportUnreachable');
    assert.equal(a.transport.activeSince(2n), undefined);
    b = await startMember(2n, port);
    const member = b;
    let i = 1;
    await waitFor(
      () => {
        a.transport.send([msgApp(1n, 2n, i++)]);
        return member.raft.received.length > 0;
      },
      5000,
      'delivery after the peer started',
    );
    assert.ok(a.transport.activeSince(2n) !== undefined);
    const got = indexesFrom(b, 1n);
    assert.deepEqual(got, [...got].sort((x, y) => x - y), 'in order');
  } finally {
    await stopMember(a);
    if (b !== undefined) await stopMember(b);
  }
});

test('a killed peer: the sender keeps serving the others, reports it unreachable, and delivers again after its restart', async () => {
  const a = await startMember(1n);
  let b = await startMember(2n);
  const c = await startMember(3n);
  const bPort = Number(new URL(b.url).port);
  try {
    connectAll([a, b, c]);
    a.transport.send([msgApp(1n, 2n, 1), msgApp(1n, 3n, 1)]);
    await waitFor(() => b.raft.received.length === 1 && c.raft.received.length === 1, 5000, 'first delivery');
    await stopMember(b, true);
    await waitFor(() => a.raft.unreachable.includes(2n), 3000, 'reportUnreachable after the kill');
    await waitFor(() => a.transport.activeSince(2n) === undefined, 3000, 'inactive');
    for (let i = 2; i < 50; i++) a.transport.send([msgApp(1n, 2n, i), msgApp(1n, 3n, i)]);
    await waitFor(() => c.raft.received.length === 49, 3000, 'delivery to the live peer');
    assert.deepEqual(indexesFrom(c, 1n), range(49).map((i) => i + 1));
    b = await startMember(2n, bPort, {}, b.dir);
    const restarted = b;
    let i = 100;
    await waitFor(
      () => {
        a.transport.send([msgApp(1n, 2n, i++)]);
        return restarted.raft.received.length > 0;
      },
      5000,
      'delivery after the restart',
    );
    assert.ok(a.transport.stats.peers.find((p) => p.id === 2n)!.connects >= 2);
  } finally {
    await stopMember(a);
    await stopMember(b);
    await stopMember(c);
  }
});

test('a stream from another cluster is refused and both sides log both cluster IDs', async () => {
  const a = await startMember(1n, 0, { clusterId: 0xaaan });
  const b = await startMember(2n, 0, { clusterId: 0xbbbn });
  try {
    a.transport.addPeer(2n, [b.url]);
    a.transport.send([msgApp(1n, 2n, 1)]);
    await waitFor(() => b.lines.some((l) => l.includes('request cluster ID mismatch')), 3000, 'mismatch log');
    const line = JSON.parse(b.lines.find((l) => l.includes('request cluster ID mismatch'))!) as Record<string, string>;
    assert.equal(line['local-member-cluster-id'], 'bbb');
    assert.equal(line['remote-peer-cluster-id'], 'aaa');
    assert.equal(line['remote-peer-id'], '1');
    await waitFor(() => a.lines.some((l) => l.includes('peer refused the raft stream') && l.includes('412')), 3000, 'sender log');
    await waitFor(() => a.raft.unreachable.includes(2n), 3000, 'reportUnreachable');
    assert.equal(b.raft.received.length, 0);
    assert.ok(b.transport.stats.refused >= 1);
    assert.equal(a.transport.activeSince(2n), undefined);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('a removed member is refused at the handshake, and cut off when removed while streaming', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  const c = await startMember(3n);
  try {
    b.raft.removed.add(3n);
    c.transport.addPeer(2n, [b.url]);
    c.transport.send([msgApp(3n, 2n, 1)]);
    await waitFor(() => c.lines.some((l) => l.includes('peer refused the raft stream') && l.includes('410')), 3000, 'refusal');
    assert.ok(b.lines.some((l) => l.includes('rejected stream from remote peer because it was removed')));

    a.transport.addPeer(2n, [b.url]);
    a.transport.send([msgApp(1n, 2n, 1)]);
    await waitFor(() => b.raft.received.length === 1, 3000, 'delivery before removal');
    b.raft.removed.add(1n);
    a.transport.send([msgApp(1n, 2n, 2)]);
    await waitFor(() => b.lines.some((l) => l.includes('closed raft stream from remote peer')), 3000, 'cut off');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(b.raft.received.map((m) => [m.from, m.index]), [[1n, 1]]);
  } finally {
    await stopMember(a);
    await stopMember(b);
    await stopMember(c);
  }
});

test('a full queue drops messages without growing, and reports the peer unreachable once per turn', async () => {
  // A peer that completes the handshake and then never reads: the socket fills, then the queue.
  const sockets: net.Socket[] = [];
  const stalled = net.createServer((s) => {
    sockets.push(s);
    s.once('data', () => {
      s.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE_TOKEN}\r\n${PeerHeader.clusterId}: c1\r\n\r\n`);
      s.pause();
    });
  });
  await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
  const port = (stalled.address() as net.AddressInfo).port;
  const a = await startMember(1n, 0, { queueCapacity: 64, queueMaxBytes: 1 << 20, socketHighWater: 1 << 20, maxBatchBytes: 256 * 1024 });
  try {
    a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
    await waitFor(() => a.transport.activeSince(2n) !== undefined, 3000, 'handshake');
    let maxQueued = 0;
    for (let turn = 0; turn < 200; turn++) {
      a.transport.send(range(64).map((i) => msgApp(1n, 2n, turn * 64 + i, 16, 1000)));
      await new Promise((r) => setImmediate(r));
      const p = a.transport.stats.peers[0]!;
      maxQueued = Math.max(maxQueued, p.queuedMessages);
      assert.ok(p.queuedBytes <= 1 << 20);
    }
    const p = a.transport.stats.peers[0]!;
    assert.ok(p.droppedMessages > 0, 'some messages were dropped');
    assert.ok(maxQueued <= 64, `queue stayed bounded (max ${maxQueued})`);
    assert.ok(p.sentBytes < 64 * 1024 * 1024, `bytes handed to the socket stayed bounded (${p.sentBytes})`);
    assert.ok(a.raft.unreachable.length > 0 && a.raft.unreachable.length <= 200, `${a.raft.unreachable.length} reports`);
    assert.ok(a.lines.filter((l) => l.includes('sending buffer is full')).length <= 2, 'overflow logging is rate-limited');
  } finally {
    await stopMember(a);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => stalled.close(() => r()));
  }
});

async function rawStream(url: string, headers: Record<string, string>): Promise<{ socket: net.Socket; status: number; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`GET ${RAFT_STREAM_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE_TOKEN}\r\n${lines}\r\n`);
  const head = await new Promise<string>((r) => socket.once('data', (d: Buffer) => r(d.toString('latin1'))));
  return { socket, status: Number(head.split(' ')[1]), closed };
}

function headersFrom(from: string): Record<string, string> {
  return {
    [PeerHeader.protocol]: String(PEER_PROTOCOL_VERSION),
    [PeerHeader.clusterId]: 'c1',
    [PeerHeader.from]: from,
    [PeerHeader.to]: '2',
  };
}

test('malformed frames from a raw socket close that connection only; the transport keeps working', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    // A frame whose body is not a Message.
    const bad = await rawStream(b.url, headersFrom('7'));
    assert.equal(bad.status, 101);
    const frame = Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]);
    bad.socket.write(frame);
    await bad.closed;
    // A length prefix beyond the limit.
    const huge = await rawStream(b.url, headersFrom('8'));
    huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await huge.closed;
    // A valid message split byte by byte is fine, then garbage closes.
    const split = await rawStream(b.url, headersFrom('9'));
    const body = encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, from: 9n, to: 2n, term: 3 }));
    const whole = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    for (const byte of whole) {
      split.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.raft.received.length === 1, 2000, 'split message');
    split.socket.write(Buffer.from([0, 0, 0, 2, 0x08, 0x7f]));
    await split.closed;
    // Not HTTP at all.
    const junk = net.connect(Number(new URL(b.url).port), '127.0.0.1');
    junk.on('error', () => {});
    const junkClosed = new Promise<void>((r) => junk.on('close', () => r()));
    junk.write('\x00\x01garbage\r\n\r\n');
    await junkClosed;
    // Missing headers: refused with 400.
    const noIds = await rawStream(b.url, {});
    assert.equal(noIds.status, 400);
    await noIds.closed;
    assert.deepEqual(b.raft.received.map((m) => [m.type, m.term]), [[MessageType.MsgHeartbeat, 3]]);
    connectAll([a, b]);
    a.transport.send([msgApp(1n, 2n, 7)]);
    await waitFor(() => b.raft.received.length === 2, 3000, 'delivery after the bad streams');
    assert.ok(b.lines.some((l) => l.includes('malformed message')));
    assert.ok(b.lines.some((l) => l.includes('exceeds the limit')));
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('updatePeer moves the stream to the new URL; removePeer stops sending', async () => {
  const a = await startMember(1n);
  const b1 = await startMember(2n);
  const b2 = await startMember(2n);
  try {
    a.transport.addPeer(2n, [b1.url]);
    a.transport.send([msgApp(1n, 2n, 1)]);
    await waitFor(() => b1.raft.received.length === 1, 3000, 'first URL');
    a.transport.updatePeer(2n, [b2.url]);
    let i = 2;
    await waitFor(
      () => {
        a.transport.send([msgApp(1n, 2n, i++)]);
        return b2.raft.received.length > 0;
      },
      3000,
      'second URL',
    );
    a.transport.removePeer(2n);
    assert.equal(a.transport.hasPeer(2n), false);
    assert.equal(a.transport.activeSince(2n), undefined);
    const before = b2.raft.received.length;
    a.transport.send([msgApp(1n, 2n, 1000)]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b2.raft.received.length, before);
  } finally {
    await stopMember(a);
    await stopMember(b1);
    await stopMember(b2);
  }
});

test('probe measures a round trip to a peer', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    a.transport.addPeer(2n, [b.url]);
    const rtt = await a.transport.probe(2n);
    assert.ok(rtt > 0 && rtt < 5000, `rtt ${rtt}`);
    await assert.rejects(a.transport.probe(5n), /no peer 5/);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});
