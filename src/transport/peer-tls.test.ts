import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MessageType, emptyConfState, newMessage } from '../api/raftpb/types.js';
import { connectAll, msgApp, startMember, stopMember, waitFor } from './test-kit.js';

/** A self-signed certificate for 127.0.0.1, made with the openssl command (absent: undefined). */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pair = selfSigned();

test('peers over https exchange messages and a snapshot; an untrusted certificate is refused', { skip: pair === undefined ? 'openssl is not installed' : false }, async () => {
  const tls = { server: { key: pair!.key, cert: pair!.cert }, client: { ca: pair!.cert } };
  const a = await startMember(1n, 0, { tls }, undefined, 'https');
  const b = await startMember(2n, 0, { tls }, undefined, 'https');
  const stranger = await startMember(3n, 0, { tls: { server: tls.server, client: {} } }, undefined, 'https');
  try {
    assert.match(a.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    connectAll([a, b]);
    a.transport.send([msgApp(1n, 2n, 1, 16, 100), msgApp(1n, 2n, 2)]);
    await waitFor(() => b.raft.received.length === 2, 5000, 'delivery over TLS');
    const body = Buffer.alloc(300_000, 7);
    const snap = newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: { data: new Uint8Array(0), metadata: { confState: emptyConfState(), index: 5, term: 1 } } });
    assert.equal(await a.transport.sendSnapshot(snap, [body], body.length), true);
    assert.ok(readFileSync(b.snapshots.received[0]!.path).equals(body));
    stranger.transport.addPeer(2n, [b.url]);
    stranger.transport.send([msgApp(3n, 2n, 1)]);
    await waitFor(() => stranger.raft.unreachable.includes(2n), 5000, 'refused handshake');
    assert.ok(stranger.lines.some((l) => l.includes('failed to dial remote peer') && l.includes('certificate')));
    assert.equal(b.raft.received.filter((m) => m.from === 3n).length, 0);
  } finally {
    await stopMember(a);
    await stopMember(b);
    await stopMember(stranger);
  }
});
