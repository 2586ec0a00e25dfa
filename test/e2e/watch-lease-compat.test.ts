/**
 * Watch create and cancel answers at the edges, side by side on etcd-ts and real etcd 3.4 (each
 * skips where it cannot run): a watch from a compacted revision, a create with an empty range, a
 * duplicate client-chosen watch ID and a cancel must answer field for field as etcd does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as pb from '../../src/api/gen/etcdserverpb.js';
import { etcdctl, startMember, targetSkipReason, type MemberKind } from './harness/index.js';
import { watchClient } from './harness/grpc-clients.js';

const enc = new TextEncoder();

/** A watch response without its header, as compared. */
interface Answer {
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: number;
}

/** etcd 3.4's answers to the session of `session()` (checked against /usr/bin/etcd 3.4.23). */
const ETCD_ANSWERS: readonly Answer[] = [
  // A watch from revision 2 after a compaction at 4: created, then canceled with the compact revision.
  { watchId: 0, created: true, canceled: false, compactRevision: 0, cancelReason: '', events: 0 },
  { watchId: 0, created: false, canceled: true, compactRevision: 4, cancelReason: '', events: 0 },
  // key >= range_end: refused with watch ID -1 and mvcc's text.
  { watchId: -1, created: true, canceled: true, compactRevision: 0, cancelReason: 'mvcc: watcher range is empty', events: 0 },
  { watchId: 7, created: true, canceled: false, compactRevision: 0, cancelReason: '', events: 0 },
  { watchId: -1, created: true, canceled: true, compactRevision: 0, cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream', events: 0 },
  // A client-chosen ID on a compacted revision.
  { watchId: 9, created: true, canceled: false, compactRevision: 0, cancelReason: '', events: 0 },
  { watchId: 9, created: false, canceled: true, compactRevision: 4, cancelReason: '', events: 0 },
  { watchId: 7, created: false, canceled: true, compactRevision: 0, cancelReason: '', events: 0 },
];

/** Runs the session on one member of `kind` and returns its answers in order. */
async function session(kind: MemberKind): Promise<Answer[]> {
  const m = await startMember(kind, { name: `compat-${kind}` });
  const client = watchClient(m.endpoint);
  try {
    for (let i = 0; i < 5; i++) assert.equal((await etcdctl(m.endpoint, ['put', 'k', String(i)])).code, 0);
    assert.equal((await etcdctl(m.endpoint, ['compact', '4'])).code, 0);
    const answers: Answer[] = [];
    const w = client.Watch();
    w.on('error', () => undefined);
    w.on('data', (r: pb.WatchResponse) => {
      answers.push({ watchId: r.watchId, created: r.created, canceled: r.canceled, compactRevision: r.compactRevision, cancelReason: r.cancelReason, events: r.events.length });
    });
    // Each request waits for its answers, so the order does not depend on timing.
    const step = async (req: pb.WatchRequest, expect: number): Promise<void> => {
      w.write(req);
      const deadline = Date.now() + 5000;
      while (answers.length < expect && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const create = (c: Partial<pb.WatchCreateRequest>): pb.WatchRequest => pb.createWatchRequest({ createRequest: pb.createWatchCreateRequest(c) });
    await step(create({ key: enc.encode('k'), startRevision: 2 }), 2);
    await step(create({ key: enc.encode('k'), rangeEnd: enc.encode('a') }), 3);
    await step(create({ key: enc.encode('k'), watchId: 7 }), 4);
    await step(create({ key: enc.encode('k'), watchId: 7 }), 5);
    await step(create({ key: enc.encode('k'), startRevision: 2, watchId: 9 }), 7);
    await step(pb.createWatchRequest({ cancelRequest: { watchId: 7 } }), 8);
    w.cancel();
    return answers;
  } finally {
    client.close();
    await m.destroy();
  }
}

for (const kind of ['etcd-ts', 'etcd'] as const) {
  const skip = await targetSkipReason(kind);
  describe(`watch create and cancel answers on ${kind}`, { skip }, () => {
    test('compacted start revision, empty range, duplicate ID and cancel answer as etcd 3.4 does', async () => {
      assert.deepEqual(await session(kind), ETCD_ANSWERS);
    });
  });
}
