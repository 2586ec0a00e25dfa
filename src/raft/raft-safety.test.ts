import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeTransition, ConfChangeType, MessageType, type ConfChangeSingle } from '../api/raftpb/types.js';
import { seededRand, type Rand } from '../pkg/rand.js';
import { StateType } from './ready.js';
import { MemoryStorage } from './storage.js';
import { TestNetwork } from './test-network.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

// Delivers the queued messages in a random order, dropping and duplicating some.
function chaoticDeliver(net: TestNetwork, rand: Rand, dropPct: number, dupPct: number): void {
  const q = net.queue;
  for (let i = q.length - 1; i > 0; i--) {
    const j = rand.intn(i + 1);
    [q[i], q[j]] = [q[j]!, q[i]!];
  }
  const out = [];
  for (const m of q) {
    const r = rand.intn(100);
    if (r < dropPct) {
      // The transport reports a snapshot it failed to send.
      if (m.type === MessageType.MsgSnap) net.peers.get(m.from)?.node.reportSnapshot(m.to, false);
      continue;
    }
    out.push(m);
    if (r >= 100 - dupPct) out.push(m);
  }
  net.queue = out;
  net.deliver();
}

// State Machine Safety (§5.4.3): no two nodes apply different entries at the same index. Nodes
// that installed a snapshot skip the entries it covers, so compare by index.
class AppliedChecker {
  private readonly byIndex = new Map<number, string>();
  private readonly cursor = new Map<bigint, number>();
  private readonly lastIndex = new Map<bigint, number>();

  check(net: TestNetwork): void {
    for (const p of net.peers.values()) {
      let i = this.cursor.get(p.id) ?? 0;
      let last = this.lastIndex.get(p.id) ?? 0;
      for (; i < p.appliedEntries.length; i++) {
        const e = p.appliedEntries[i]!;
        assert.ok(e.index > last, `node ${p.id} applied index ${e.index} after ${last}`);
        last = e.index;
        const got = `${e.term}/${e.type}/${dec(e.data)}`;
        const prev = this.byIndex.get(e.index);
        if (prev === undefined) this.byIndex.set(e.index, got);
        else assert.equal(got, prev, `node ${p.id} applied a different entry at index ${e.index}`);
      }
      this.cursor.set(p.id, i);
      this.lastIndex.set(p.id, last);
    }
  }
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`state machine safety under loss, duplication, reordering, partitions and compaction (seed ${seed}) (§5.4.3)`, () => {
    const rand = seededRand(seed * 7919);
    const ids = [1n, 2n, 3n, 4n, 5n];
    const preVote = seed % 2 === 0;
    const net = new TestNetwork(ids, { seed, preVote, checkQuorum: preVote, maxInflightMsgs: 4, maxSizePerMsg: 64 });
    const checker = new AppliedChecker();
    let proposals = 0;
    for (let step = 0; step < 3000; step++) {
      if (step % 200 === 0) {
        net.recover();
        if (rand.intn(2) === 0) net.isolate(ids[rand.intn(5)]!);
        if (rand.intn(2) === 0) net.cut(ids[rand.intn(5)]!, ids[rand.intn(5)]!);
      }
      const id = ids[rand.intn(5)]!;
      switch (rand.intn(6)) {
        case 0:
        case 1:
          net.node(id).tick();
          break;
        case 2: {
          net.node(id).propose(new TextEncoder().encode(`p${proposals++}`));
          break;
        }
        case 3: {
          // The host compacts its log behind the applied index now and then.
          const p = net.peer(id);
          const applied = p.node.raft.raftLog.applied;
          if (applied > p.storage.firstIndex() + 5 && rand.intn(4) === 0) {
            const snap = p.storage.createSnapshot(applied, p.confState, new Uint8Array(0));
            if (typeof snap !== 'string') p.storage.compact(applied - 2);
          }
          break;
        }
        default:
          break;
      }
      net.processReadies();
      chaoticDeliver(net, rand, 10, 5);
      checker.check(net);
      for (const p of net.peers.values()) {
        const r = p.node.raft;
        assert.ok(r.raftLog.applied <= r.raftLog.committed && r.raftLog.committed <= r.raftLog.lastIndex());
      }
    }
    // Heal everything and let the cluster converge.
    net.recover();
    for (let i = 0; i < 100; i++) {
      for (const id of ids) net.node(id).tick();
      net.stabilize();
    }
    net.node(net.leader()).propose(new TextEncoder().encode('final'));
    net.stabilize();
    checker.check(net);
    const lead = net.leader();
    assert.notEqual(lead, 0n);
    assert.equal(net.node(lead).raft.state, StateType.StateLeader);
    const final = net.peer(lead).node.raft.raftLog.committed;
    for (const p of net.peers.values()) assert.equal(p.node.raft.raftLog.committed, final, `node ${p.id} caught up`);
  });
}

for (const seed of [1, 2, 3]) {
  test(`state machine safety with membership changes under a lossy network (seed ${seed}) (§5.4.3, §6)`, () => {
    const rand = seededRand(seed * 104729);
    const ids = [1n, 2n, 3n, 4n, 5n];
    // Nodes 4 and 5 exist but start outside the config; they join and leave as learners and voters.
    const net = new TestNetwork([1n, 2n, 3n], { seed, preVote: true, checkQuorum: true, maxInflightMsgs: 8 });
    for (const id of [4n, 5n]) net.addPeer(id, new MemoryStorage(structuredClone(net.peer(1n).confState)));
    const checker = new AppliedChecker();
    let proposals = 0;
    let changes = 0;
    for (let step = 0; step < 2500; step++) {
      if (step % 300 === 0) {
        net.recover();
        if (rand.intn(2) === 0) net.isolate(ids[rand.intn(5)]!);
      }
      const id = ids[rand.intn(5)]!;
      const op = rand.intn(8);
      if (op < 3) net.node(id).tick();
      else if (op < 6) net.node(id).propose(new TextEncoder().encode(`p${proposals++}`));
      else if (op === 6) {
        const lead = net.leader();
        if (lead !== 0n) {
          const r = net.node(lead).raft;
          const cfg = r.trk.config;
          if (cfg.voters.outgoing.ids.size === 0) {
            const target = rand.intn(2) === 0 ? 4n : 5n;
            const isVoter = cfg.voters.incoming.ids.has(target);
            const isLearner = cfg.learners.has(target);
            const single: ConfChangeSingle[] = [];
            if (!isVoter && !isLearner) single.push({ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: target });
            else if (isLearner) single.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: target });
            else single.push({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: target });
            // Sometimes change two at once through a joint config.
            const other = target === 4n ? 5n : 4n;
            if (rand.intn(2) === 0 && (cfg.voters.incoming.ids.has(other) || cfg.learners.has(other))) {
              single.push({ type: ConfChangeType.ConfChangeRemoveNode, nodeId: other });
            }
            if (net.node(lead).proposeConfChange({ transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: single, context: new Uint8Array(0) }) === undefined) changes++;
          }
        }
      }
      net.processReadies();
      chaoticDeliver(net, rand, 5, 3);
      checker.check(net);
    }
    net.recover();
    for (let i = 0; i < 60; i++) {
      for (const id of ids) net.node(id).tick();
      net.stabilize();
    }
    checker.check(net);
    assert.ok(changes > 0, 'some membership changes were proposed');
    assert.notEqual(net.leader(), 0n);
  });
}
