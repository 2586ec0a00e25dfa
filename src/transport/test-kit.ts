import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, MessageType, newMessage, type Message } from '../api/raftpb/types.js';
import { createLogger, type Logger } from '../pkg/logger.js';
import { PeerTransport } from './peer-transport.js';
import type { RaftReceiver } from './raft-receiver.js';
import type { ReceivedSnapshot, SnapshotReceiver } from './snapshot-receiver.js';
import type { PeerTransportOptions } from './transport-options.js';

/**
 * Test support for the transport's tests: a raft stand-in that records what the transport hands
 * it, and helpers to run transports on free loopback ports. Not used by production code.
 */

/** Records every call the transport makes into raft. */
export class RecordingRaft implements RaftReceiver {
  readonly received: Message[] = [];
  readonly unreachable: bigint[] = [];
  readonly snapshotReports: { id: bigint; ok: boolean }[] = [];
  readonly removed = new Set<bigint>();

  process(msg: Message): void {
    this.received.push(msg);
  }
  isIdRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, ok: boolean): void {
    this.snapshotReports.push({ id, ok });
  }
}

/** A snapshot receiver that keeps the files where they are and records them (or fails when told). */
export class RecordingSnapshots implements SnapshotReceiver {
  readonly received: ReceivedSnapshot[] = [];
  fail = false;

  async receiveSnapshot(s: ReceivedSnapshot): Promise<void> {
    if (this.fail) throw new Error('refused by the test');
    this.received.push(s);
  }
}

/** A logger that keeps its lines. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', sink: (l) => lines.push(l), caller: false }), lines };
}

/** One member's transport with its recorders. */
export interface TestMember {
  id: bigint;
  transport: PeerTransport;
  raft: RecordingRaft;
  snapshots: RecordingSnapshots;
  lines: string[];
  dir: string;
  url: string;
}

/** Starts a transport for member `id` on 127.0.0.1 (`port` 0 for a free one); `https` needs `options.tls`. */
export async function startMember(id: bigint, port = 0, options: Partial<PeerTransportOptions> = {}, dir?: string, scheme: 'http' | 'https' = 'http'): Promise<TestMember> {
  const raft = new RecordingRaft();
  const snapshots = new RecordingSnapshots();
  const { logger, lines } = memoryLogger();
  const snapDir = dir ?? (await mkdtemp(join(tmpdir(), 'etcd-ts-transport-')));
  const transport = new PeerTransport({
    memberId: id,
    clusterId: 0xc1n,
    logger,
    raft,
    snapshots,
    snapshotDir: snapDir,
    backoffInitialMs: 10,
    backoffMaxMs: 100,
    ...options,
  });
  await transport.start([`${scheme}://127.0.0.1:${port}`]);
  return { id, transport, raft, snapshots, lines, dir: snapDir, url: transport.listenUrls()[0]! };
}

/** Closes a member's transport and removes its snapshot directory. */
export async function stopMember(m: TestMember, keepDir = false): Promise<void> {
  await m.transport.close();
  if (!keepDir) await rm(m.dir, { recursive: true, force: true });
}

/** Makes every member a peer of every other. */
export function connectAll(members: readonly TestMember[]): void {
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
}

/** A free TCP port on 127.0.0.1 (free when returned; nothing holds it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `cond` holds, polling every 5 ms; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A MsgApp from `from` to `to` with `entries` entries of `bytes` bytes; `index` tags it. */
export function msgApp(from: bigint, to: bigint, index: number, entries = 1, bytes = 100): Message {
  const ents = [];
  for (let i = 0; i < entries; i++) ents.push({ term: 1, index: index * entries + i + 1, type: EntryType.EntryNormal, data: new Uint8Array(bytes).fill(i & 0xff) });
  return newMessage({ type: MessageType.MsgApp, from, to, term: 1, logTerm: 1, index, commit: index, entries: ents });
}
