import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rpcError, isRpcError } from '../api/rpctypes/index.js';
import { ReadIndexBatcher } from './read-index.js';

function setup(timeoutMs = 10_000) {
  const asked: Uint8Array[] = [];
  let applied = 0;
  let next = 100n;
  const b = new ReadIndexBatcher({
    requestReadIndex: (ctx) => asked.push(ctx),
    appliedIndex: () => applied,
    nextId: () => next++,
    timeoutMs,
    timeoutError: () => rpcError('timeout'),
  });
  return { b, asked, setApplied: (i: number) => (applied = i) };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const settled = async (p: Promise<void>): Promise<string> =>
  Promise.race([p.then(() => 'resolved', (e: unknown) => `rejected ${(e as Error).message}`), new Promise<string>((r) => setImmediate(() => r('pending')))]);

test('reads waiting together share one round; a read arriving during a round waits for the next', async () => {
  const { b, asked, setApplied } = setup();
  const r1 = b.wait();
  const r2 = b.wait();
  await turn();
  assert.equal(asked.length, 1);
  const r3 = b.wait(); // the round was already asked for: r3 must not join it
  await turn();
  assert.equal(asked.length, 1);
  b.onReadStates([{ index: 10, requestCtx: asked[0]! }]);
  assert.equal(await settled(r1), 'pending', 'applied index still below the read index');
  setApplied(10);
  b.onApplied(10);
  assert.equal(await settled(r1), 'resolved');
  assert.equal(await settled(r2), 'resolved');
  assert.equal(await settled(r3), 'pending');
  await turn();
  assert.equal(asked.length, 2);
  assert.notDeepEqual(asked[1], asked[0]);
  // A state for an older context is ignored; the current one completes at once when applied is far enough.
  b.onReadStates([{ index: 5, requestCtx: asked[0]! }]);
  assert.equal(await settled(r3), 'pending');
  b.onReadStates([{ index: 10, requestCtx: asked[1]! }]);
  assert.equal(await settled(r3), 'resolved');
  assert.equal(b.rounds, 2);
});

test('a round fails on timeout or leader change, the next one starts for later reads, and stop refuses all', async () => {
  const { b, asked } = setup(20);
  const r1 = b.wait();
  await assert.rejects(r1, (e) => isRpcError(e, 'timeout'));
  const r2 = b.wait();
  await turn();
  assert.equal(asked.length, 2);
  b.onLeaderChanged(rpcError('leader-changed'));
  await assert.rejects(r2, (e) => isRpcError(e, 'leader-changed'));
  const r3 = b.wait();
  b.stop(rpcError('stopped'));
  await assert.rejects(r3, (e) => isRpcError(e, 'stopped'));
  await assert.rejects(b.wait(), (e) => isRpcError(e, 'stopped'));
});
