// The event window keeps the newest max_events, hides events older than max_age, and resizes on reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventWindow } from '../../../src/server/window';

const ev = (n: number, t = 1000) => ({ n, timeUnixMs: t });
const ns = (w: EventWindow<{ n: number; timeUnixMs: number }>) => w.query({}).map((e) => e.n);

test('holds the newest capacity events, last received first, and counts the evicted', () => {
  const w = new EventWindow<{ n: number; timeUnixMs: number }>(3, 60_000, () => 1000);
  for (let i = 1; i <= 5; i++) w.add(ev(i));
  assert.deepEqual(ns(w), [5, 4, 3]);
  assert.deepEqual(w.stats(), { held: 3, capacity: 3, added: 5, evicted: 2, maxAgeMs: 60_000 });
});

test('events older than max_age are not returned, and since/until bound the time', () => {
  let now = 10_000;
  const w = new EventWindow<{ n: number; timeUnixMs: number }>(10, 5000, () => now);
  w.add(ev(1, 4000));
  w.add(ev(2, 6000));
  w.add(ev(3, 9000));
  assert.deepEqual(ns(w), [3, 2]);
  assert.deepEqual(
    w.query({ sinceUnixMs: 7000 }).map((e) => e.n),
    [3],
  );
  assert.deepEqual(
    w.query({ untilUnixMs: 7000 }).map((e) => e.n),
    [2],
  );
  now = 20_000;
  assert.deepEqual(ns(w), []);
});

test('a smaller capacity keeps the newest events; a larger one keeps all and makes room', () => {
  const w = new EventWindow<{ n: number; timeUnixMs: number }>(4, 60_000, () => 1000);
  for (let i = 1; i <= 6; i++) w.add(ev(i));
  w.configure(2, 60_000);
  assert.deepEqual(ns(w), [6, 5]);
  w.configure(5, 60_000);
  for (let i = 7; i <= 9; i++) w.add(ev(i));
  assert.deepEqual(ns(w), [9, 8, 7, 6, 5]);
  w.add(ev(10));
  assert.deepEqual(ns(w), [10, 9, 8, 7, 6]);
});

test('query stops at the limit and match filters', () => {
  const w = new EventWindow<{ n: number; timeUnixMs: number }>(10, 60_000, () => 1000);
  for (let i = 1; i <= 8; i++) w.add(ev(i));
  assert.deepEqual(
    w.query({ match: (e) => e.n % 2 === 0 }, 2).map((e) => e.n),
    [8, 6],
  );
});
