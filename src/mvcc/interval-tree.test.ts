import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRand } from '../pkg/rand.js';
import { IntervalTree } from './interval-tree.js';

const ALPHABET = 'abcdef';

function randomKey(r: ReturnType<typeof seededRand>): string {
  let s = '';
  const n = 1 + r.intn(3);
  for (let i = 0; i < n; i++) s += ALPHABET[r.intn(ALPHABET.length)];
  return s;
}

function contains(start: string, end: string, key: string): boolean {
  return key >= start && (end === '' || key < end);
}

test('stab finds exactly the intervals containing a key, through random inserts and deletes', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = seededRand(seed);
    const tree = new IntervalTree<string>();
    const model = new Map<string, [string, string]>();
    for (let step = 0; step < 400; step++) {
      const a = randomKey(r);
      const b = r.intn(5) === 0 ? '' : randomKey(r);
      if (b !== '' && a >= b) continue;
      const id = `${a}|${b}`;
      if (r.intn(3) === 0 && model.size > 0) {
        const victim = [...model.keys()][r.intn(model.size)]!;
        const [s, e] = model.get(victim)!;
        assert.equal(tree.delete(s, e), true);
        assert.equal(tree.delete(s, e), false);
        model.delete(victim);
      } else {
        tree.set(a, b, id);
        model.set(id, [a, b]);
      }
      assert.equal(tree.size, model.size);
      const probe = randomKey(r);
      const got: string[] = [];
      tree.stab(probe, got);
      const want = [...model.entries()].filter(([, [s, e]]) => contains(s, e, probe)).map(([k]) => k);
      assert.deepEqual(got.slice().sort(), want.sort(), `seed ${seed} step ${step} probe ${probe}`);
      assert.equal(tree.contains(probe), want.length > 0);
    }
  }
});

test('an empty end reaches every key from the start on', () => {
  const tree = new IntervalTree<number>();
  tree.set('b', '', 1);
  tree.set('a', 'b', 2);
  const out: number[] = [];
  tree.stab('\xff\xff', out);
  assert.deepEqual(out, [1]);
  out.length = 0;
  tree.stab('a', out);
  assert.deepEqual(out, [2]);
  assert.equal(tree.get('b', ''), 1);
  assert.equal(tree.get('b', 'c'), undefined);
});
