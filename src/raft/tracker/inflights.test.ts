import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';

function addRange(inf: Inflights, from: number, to: number, bytes = 0): void {
  for (let i = from; i <= to; i++) inf.add(i, bytes);
}

test('add fills up to size and then is full', () => {
  const inf = new Inflights(10);
  addRange(inf, 0, 4);
  assert.equal(inf.count(), 5);
  assert.equal(inf.full(), false);
  addRange(inf, 5, 9);
  assert.equal(inf.count(), 10);
  assert.equal(inf.full(), true);
  assert.throws(() => inf.add(10), /full/);
});

test('freeLE frees every message at or below the index', () => {
  const inf = new Inflights(10);
  addRange(inf, 0, 9);
  inf.freeLE(0);
  assert.equal(inf.count(), 9);
  inf.freeLE(4);
  assert.equal(inf.count(), 5);
  inf.freeLE(8);
  assert.equal(inf.count(), 1);
  assert.equal(inf.full(), false);
  // A stale ack below the window's first index frees nothing.
  inf.freeLE(3);
  assert.equal(inf.count(), 1);
  inf.freeLE(9);
  assert.equal(inf.count(), 0);
  inf.freeLE(100);
  assert.equal(inf.count(), 0);
});

test('the ring wraps around and keeps order across the wrap', () => {
  const inf = new Inflights(10);
  addRange(inf, 0, 9);
  inf.freeLE(4);
  // Five slots free at the front: the next adds wrap to the start of the buffer.
  addRange(inf, 10, 14);
  assert.equal(inf.full(), true);
  inf.freeLE(11);
  assert.equal(inf.count(), 3);
  inf.freeLE(13);
  assert.equal(inf.count(), 1);
  addRange(inf, 15, 23);
  assert.equal(inf.full(), true);
  inf.freeLE(22);
  assert.equal(inf.count(), 1);
  inf.freeLE(23);
  assert.equal(inf.count(), 0);
});

test('the buffer grows on demand while the window wraps', () => {
  const inf = new Inflights(8);
  // Leave the start in the middle of a small buffer, then fill the whole window.
  addRange(inf, 1, 3);
  inf.freeLE(2);
  addRange(inf, 4, 10);
  assert.equal(inf.count(), 8);
  assert.equal(inf.full(), true);
  for (let i = 3; i <= 10; i++) {
    inf.freeLE(i);
    assert.equal(inf.count(), 10 - i);
  }
});

test('a byte budget makes the window full before the count limit', () => {
  const inf = new Inflights(10, 100);
  inf.add(1, 40);
  inf.add(2, 40);
  assert.equal(inf.full(), false);
  assert.equal(inf.bytes(), 80);
  inf.add(3, 30);
  assert.equal(inf.full(), true);
  inf.freeLE(1);
  assert.equal(inf.bytes(), 70);
  assert.equal(inf.full(), false);
});

test('reset empties the window and clone is independent', () => {
  const inf = new Inflights(4, 10);
  addRange(inf, 1, 3, 3);
  const c = inf.clone();
  inf.reset();
  assert.equal(inf.count(), 0);
  assert.equal(inf.bytes(), 0);
  assert.equal(c.count(), 3);
  assert.equal(c.bytes(), 9);
  c.freeLE(2);
  assert.equal(c.count(), 1);
});

test('size must be positive', () => {
  assert.throws(() => new Inflights(0));
});
