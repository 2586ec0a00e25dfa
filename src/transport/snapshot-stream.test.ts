import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { MessageType, emptyConfState, newMessage, type Message } from '../api/raftpb/types.js';
import { PeerHeader, RAFT_SNAPSHOT_PATH, handshakeHeaders } from './peer-handshake.js';
import { connectAll, startMember, stopMember, waitFor } from './test-kit.js';

function msgSnap(from: bigint, to: bigint, index: number): Message {
  return newMessage({
    type: MessageType.MsgSnap,
    from,
    to,
    term: 2,
    snapshot: { data: new Uint8Array([1, 2, 3]), metadata: { confState: { ...emptyConfState(), voters: [1n, 2n] }, index, term: 2 } },
  });
}

async function* chunks(data: Buffer, size: number, failAfter = Infinity): AsyncGenerator<Uint8Array> {
  for (let pos = 0; pos < data.length; pos += size) {
    if (pos >= failAfter) throw new Error('disk read failed');
    yield data.subarray(pos, Math.min(data.length, pos + size));
  }
}

test('a snapshot stream of a few MB arrives byte-identical, is handed over with its message, and reports ok', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    connectAll([a, b]);
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const src = join(a.dir, 'db');
    await writeFile(src, data);
    const progress: number[] = [];
    let done: boolean | undefined;
    const ok = await a.transport.sendSnapshot(msgSnap(1n, 2n, 42), createReadStream(src), data.length, {
      onProgress: (sent) => progress.push(sent),
      onDone: (res) => (done = res),
    });
    assert.equal(ok, true);
    assert.equal(done, true);
    assert.equal(progress.at(-1), data.length);
    assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: true }]);
    assert.equal(b.snapshots.received.length, 1);
    const got = b.snapshots.received[0]!;
    assert.equal(got.size, data.length);
    assert.equal(got.from, 1n);
    assert.equal(got.message.snapshot?.metadata.index, 42);
    const written = await readFile(got.path);
    assert.equal(createHash('sha256').update(written).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.deepEqual(b.raft.received.map((m) => [m.type, m.snapshot?.metadata.index]), [[MessageType.MsgSnap, 42]]);
    assert.equal(b.transport.stats.snapshotsReceived, 1);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('a snapshot whose body fails mid-stream reports not ok and leaves no partial file', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    connectAll([a, b]);
    const data = randomBytes(4 * 1024 * 1024);
    const ok = await a.transport.sendSnapshot(msgSnap(1n, 2n, 7), chunks(data, 64 * 1024, 2 * 1024 * 1024), data.length);
    assert.equal(ok, false);
    assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: false }]);
    assert.ok(a.raft.unreachable.includes(2n));
    await waitFor(() => b.transport.stats.snapshotsReceiveFailed === 1, 3000, 'receiver noticed');
    assert.deepEqual(await readdir(b.dir), []);
    assert.equal(b.snapshots.received.length, 0);
    assert.equal(b.raft.received.length, 0);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('a snapshot the server refuses, or shorter than announced, reports not ok and is deleted', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    connectAll([a, b]);
    const data = randomBytes(1024 * 1024);
    b.snapshots.fail = true;
    assert.equal(await a.transport.sendSnapshot(msgSnap(1n, 2n, 8), chunks(data, 100_000), data.length), false);
    b.snapshots.fail = false;
    assert.equal(await a.transport.sendSnapshot(msgSnap(1n, 2n, 9), chunks(data, 100_000), data.length + 10), false);
    assert.equal(await a.transport.sendSnapshot(msgSnap(1n, 2n, 10), chunks(data, 100_000), 5), false);
    assert.equal(await a.transport.sendSnapshot(msgSnap(1n, 3n, 10), chunks(data, 100_000), data.length), false, 'unknown peer');
    assert.deepEqual(
      a.raft.snapshotReports.map((r) => r.ok),
      [false, false, false, false],
    );
    // The size mismatches may fail before the upload reaches the receiver; the refusal does reach it.
    await waitFor(() => b.transport.stats.snapshotsReceiveFailed >= 1, 3000, 'receiver noticed');
    assert.equal(b.raft.received.length, 0);
    // The transport still works afterwards.
    assert.equal(await a.transport.sendSnapshot(msgSnap(1n, 2n, 11), chunks(data, 100_000), data.length), true);
    // Aborted uploads can reach the receiver late (each is its own connection): once none is in
    // progress, only the one that was taken is left.
    await waitFor(() => b.transport.stats.snapshotsReceiving === 0, 5000, 'receiver idle');
    assert.deepEqual(await readdir(b.dir), [basename(b.snapshots.received[0]!.path)]);
    assert.equal(b.snapshots.received.length, 1);
  } finally {
    await stopMember(a);
    await stopMember(b);
  }
});

test('a snapshot from another cluster or with a bad checksum is refused', async () => {
  const b = await startMember(2n);
  try {
    const body = Buffer.alloc(10, 1);
    const post = async (headers: Record<string, string>, payload: Buffer): Promise<number> => {
      const res = await fetch(`${b.url}${RAFT_SNAPSHOT_PATH}`, { method: 'POST', headers, body: payload });
      await res.text();
      return res.status;
    };
    const { encodeMessage } = await import('../api/raftpb/codec.js');
    const m = encodeMessage(msgSnap(1n, 2n, 3));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(m.length);
    const wrongDigest = Buffer.concat([len, m, body, Buffer.alloc(32)]);
    const headers = { ...handshakeHeaders({ memberId: 1n, clusterId: 0xc1n }, 2n), [PeerHeader.snapshotSize]: '10' };
    assert.equal(await post(headers, wrongDigest), 400);
    assert.equal(await post({ ...headers, [PeerHeader.clusterId]: 'dead' }, wrongDigest), 412);
    assert.ok(b.lines.some((l) => l.includes('failed its SHA-256 check')));
    assert.ok(b.lines.some((l) => l.includes('refused snapshot from remote peer') && l.includes('"remote-peer-cluster-id":"dead"')));
    assert.deepEqual(await readdir(b.dir), []);
  } finally {
    await stopMember(b);
  }
});

test('start removes partial snapshot files a crash left behind', async () => {
  const first = await startMember(2n);
  await stopMember(first, true);
  await writeFile(join(first.dir, '.peer-snapshot-1-abc.part'), 'partial');
  await writeFile(join(first.dir, '0000000000000002-0000000000000009.snap.db'), 'kept');
  const b = await startMember(2n, 0, {}, first.dir);
  try {
    assert.deepEqual(await readdir(b.dir), ['0000000000000002-0000000000000009.snap.db']);
  } finally {
    await stopMember(b);
  }
});
