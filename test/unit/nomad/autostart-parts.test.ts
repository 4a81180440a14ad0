// The small parts of nomad_autostart on their own: backoff bounds, server-name wildcards, the open-connection table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../../src/pipeline/processors/nomad_autostart/backoff';
import { OpenConnections } from '../../../src/pipeline/processors/nomad_autostart/connections';
import { compileServerNames, matchesSuffix } from '../../../src/pipeline/processors/nomad_autostart/server-names';
import { connEvent } from '../pipeline/events';

test('backoff doubles from the initial step to the cap, each delay between half and all of its step', () => {
  for (const r of [0, 0.5, 0.999999]) {
    const b = new Backoff(100, 1000, () => r);
    const delays = Array.from({ length: 7 }, () => b.next());
    const steps = [100, 200, 400, 800, 1000, 1000, 1000];
    delays.forEach((d, i) => assert.ok(d >= steps[i] / 2 && d <= steps[i], `delay ${i} = ${d} for random ${r}`));
    b.reset();
    assert.ok(b.next() <= 100);
  }
});

test('a wildcard matches names below its suffix at any depth, never the suffix itself or a look-alike', () => {
  const { exact, suffixes } = compileServerNames(['app.example.com', '*.app.example.com']);
  assert.deepEqual(exact, ['app.example.com']);
  assert.deepEqual(suffixes, ['.app.example.com']);
  assert.equal(matchesSuffix('eu.app.example.com', suffixes), true);
  assert.equal(matchesSuffix('a.b.app.example.com', suffixes), true);
  assert.equal(matchesSuffix('app.example.com', suffixes), false);
  assert.equal(matchesSuffix('xapp.example.com', suffixes), false);
  assert.equal(matchesSuffix('.app.example.com', suffixes), false);
});

test('open connections: connects, accepts and existing ones count until they close; listeners and other ports never', () => {
  const closed: number[] = [];
  const t = new OpenConnections(new Set([5432]), (p) => closed.push(p));
  t.observe(connEvent({ kind: 'connect', sock: 1n, remotePort: 5432 }));
  t.observe(connEvent({ kind: 'state', sock: 1n, remotePort: 5432, oldState: 'syn_sent', newState: 'established' }));
  t.observe(connEvent({ kind: 'accept', sock: 2n, direction: 'inbound', localPort: 5432, remotePort: 40000 }));
  t.observe(connEvent({ kind: 'existing', sock: 3n, direction: 'unknown', localPort: 5432, remotePort: 40001, newState: 'established' }));
  t.observe(connEvent({ kind: 'existing', sock: 4n, direction: 'unknown', localPort: 5432, remotePort: 0, newState: 'listen' }));
  t.observe(connEvent({ kind: 'state', sock: 5n, direction: 'inbound', localPort: 5432, newState: 'listen' }));
  t.observe(connEvent({ kind: 'connect', sock: 6n, remotePort: 6379 }));
  t.observe(connEvent({ kind: 'connect', sock: 7n, remotePort: 5432, transport: 'udp' }));
  assert.equal(t.open(5432), 3);
  t.observe(connEvent({ kind: 'close', sock: 1n, remotePort: 5432 }));
  t.observe(connEvent({ kind: 'state', sock: 2n, direction: 'inbound', localPort: 5432, newState: 'time_wait' }));
  assert.deepEqual([t.open(5432), closed], [1, []]);
  t.observe(connEvent({ kind: 'close', sock: 4n }));
  t.observe(connEvent({ kind: 'close', sock: 3n }));
  assert.deepEqual([t.open(5432), closed], [0, [5432]], 'told once, when the last one closed');
});
