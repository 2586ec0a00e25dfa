import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT, heapTuningFlags } from './heap-tuning.js';

test('the server bounds the old generation growth factor by default', () => {
  assert.deepEqual(heapTuningFlags([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  assert.deepEqual(heapTuningFlags(['--inspect', '--max-old-space-size=4096']), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
});

test('a growth factor given to node on its command line wins', () => {
  assert.deepEqual(heapTuningFlags(['--heap-growing-percent=30']), []);
  assert.deepEqual(heapTuningFlags(['--heap_growing_percent', '80']), []);
});
