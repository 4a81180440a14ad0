// A group's state is one union (idle, waking, awake, sleeping, sleep-blocked, adopting) and every
// transition is a method of Target: these are the moves the flows make.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledRule } from '../../../src/pipeline/processors/nomad_autostart/rules';
import { Target } from '../../../src/pipeline/processors/nomad_autostart/target';

const rule = { name: 'web' } as unknown as CompiledRule;
const target = (): Target => new Target('k', 'default', 'web', 'web', [rule]);

test('a wake that scales the group leaves it awake; one that did nothing leaves it idle', () => {
  const t = target();
  assert.equal(t.state.kind, 'idle');
  assert.equal(t.begin('wake'), true);
  assert.deepEqual([t.state.kind, t.busy], ['waking', 'wake']);
  t.wokeUp({ rule, count: 1 });
  t.end();
  assert.deepEqual([t.state.kind, t.woken?.count, t.busy], ['awake', 1, undefined]);
  const u = target();
  u.begin('wake');
  u.end();
  assert.equal(u.state.kind, 'idle');
});

test('a sleep starts only from awake, and one flow at a time', () => {
  const t = target();
  assert.equal(t.begin('sleep'), false, 'nothing to put to sleep');
  t.wokeUp({ rule, count: 1 });
  assert.equal(t.begin('sleep'), true);
  assert.equal(t.begin('wake'), false, 'single-flight');
  t.fellAsleep();
  t.end();
  assert.equal(t.state.kind, 'idle');
});

test('a refused scale-down blocks sleeps until the next wake', () => {
  const t = target();
  t.wokeUp({ rule, count: 2 });
  t.begin('sleep');
  t.blockSleep();
  t.end();
  assert.deepEqual([t.state.kind, t.sleepBlocked, t.woken?.count], ['sleep-blocked', true, 2]);
  assert.equal(t.begin('sleep'), false);
  t.begin('wake');
  assert.equal(t.sleepBlocked, true, 'still blocked while the wake is under way');
  t.wokeUp({ rule, count: 2 });
  t.end();
  assert.deepEqual([t.state.kind, t.sleepBlocked], ['awake', false]);
});

test('a failed wake of a sleep-blocked group leaves it sleep-blocked', () => {
  const t = target();
  t.wokeUp({ rule, count: 1 });
  t.blockSleep();
  t.begin('wake');
  t.end();
  assert.equal(t.state.kind, 'sleep-blocked');
});
