import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from '../../../src/enrich/lru';

test('a full cache evicts the least recently used key', () => {
  const lru = new LruCache<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.set('c', 3);
  assert.equal(lru.get('a'), undefined);
  assert.equal(lru.get('b'), 2);
  assert.equal(lru.get('c'), 3);
  assert.equal(lru.stats().evictions, 1);
});

test('reading a key makes it the last to be evicted', () => {
  const lru = new LruCache<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.get('a');
  lru.set('c', 3);
  assert.equal(lru.peek('a'), 1);
  assert.equal(lru.peek('b'), undefined);
});

test('setting an existing key replaces its value without growing the cache', () => {
  const lru = new LruCache<number, string>(3);
  lru.set(1, 'x');
  lru.set(1, 'y');
  assert.equal(lru.get(1), 'y');
  assert.equal(lru.size, 1);
});

test('a deleted key frees its slot for the next insert without evicting anyone', () => {
  const lru = new LruCache<number, string>(2);
  lru.set(1, 'one');
  lru.set(2, 'two');
  assert.equal(lru.delete(1), true);
  lru.set(3, 'three');
  assert.equal(lru.peek(2), 'two');
  assert.equal(lru.peek(3), 'three');
  assert.equal(lru.stats().evictions, 0);
});

test('the cache never holds more than its capacity, whatever the access pattern', () => {
  const lru = new LruCache<number, number>(16);
  for (let i = 0; i < 10_000; i++) {
    const k = (i * 7919) % 97;
    if (lru.get(k) === undefined) lru.set(k, i);
    if (i % 13 === 0) lru.delete((i * 31) % 97);
    assert.ok(lru.size <= 16);
  }
  // Every key the map knows is readable: the linked list and the map agree.
  let readable = 0;
  for (let k = 0; k < 97; k++) if (lru.peek(k) !== undefined) readable++;
  assert.equal(readable, lru.size);
});

test('hits and misses are counted', () => {
  const lru = new LruCache<number, number>(4);
  lru.get(1);
  lru.set(1, 1);
  lru.get(1);
  lru.get(1);
  assert.deepEqual(lru.stats(), { hits: 2, misses: 1, evictions: 0, size: 1, capacity: 4 });
});

test('a cache must have room for at least one entry', () => {
  assert.throws(() => new LruCache(0), RangeError);
});
