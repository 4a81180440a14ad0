// The small parts of nomad_autostart on their own: backoff bounds, server-name wildcards, the open-connection table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../../src/pipeline/processors/nomad_autostart/backoff';
import { OpenConnections } from '../../../src/pipeline/processors/nomad_autostart/connections';
import { compileServerNames, matchesSuffix } from '../../../src/pipeline/processors/nomad_autostart/server-names';
import type { ConnPipelineEvent } from '../../../src/pipeline/event';
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

test("open connections: a port the kernel counts no open socket on drops the sockets whose close was lost, once the kernel's pass surely saw them", () => {
  const closed: number[] = [];
  const t = new OpenConnections(new Set([5432]), (p) => closed.push(p));
  const count = (row: 'begin' | 'active' | 'overflow', over: Partial<ConnPipelineEvent> = {}, active = 0): ConnPipelineEvent =>
    connEvent({
      kind: 'count',
      sock: 0n,
      ...over,
      counts: { row, opened: 0, failed: 0, active, transitions: 0, bytesSent: 0, bytesReceived: 0, retransmits: 0, duration: undefined, rtt: undefined },
    });
  /** One collection of the kernel's counters: `open` sockets on port 5432 (outbound, established). */
  const collection = (open: number) => {
    t.observe(count('begin'));
    if (open > 0) t.observe(count('active', { remotePort: 5432, newState: 'established' }, open));
    t.observe(count('active', { remotePort: 6379, newState: 'established' }, 7)); // another port: not ours
  };
  collection(0);
  t.observe(connEvent({ kind: 'connect', sock: 1n, remotePort: 5432 })); // its close record will be lost
  collection(0); // may have run before the connect: no verdict on it yet
  collection(0); // finalizes the previous one
  assert.deepEqual([t.open(5432), closed, t.resynced], [1, [], 0], 'a socket opened after the pass began is left alone');
  collection(0); // the pass of this one ran after the socket was seen: the kernel would have counted it
  collection(1); // finalizes it (0 open on 5432)
  assert.deepEqual([t.open(5432), closed, t.resynced], [0, [5432], 1], 'dropped, and the owner told the port is idle');

  // While the kernel counts it open, the socket stays; an overflowed collection says nothing.
  t.observe(connEvent({ kind: 'connect', sock: 2n, remotePort: 5432 }));
  for (let i = 0; i < 4; i++) collection(1);
  assert.equal(t.open(5432), 1);
  t.observe(count('begin'));
  t.observe(count('overflow', {}, 3));
  t.observe(count('begin'));
  assert.equal(t.open(5432), 1, 'open sockets counted without ports: no verdict');
});
