import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, test } from 'node:test';
import { nowBootNs } from '../../../src/enrich/clock';
import { Enricher } from '../../../src/enrich/enricher';
import { emptyEnrichment } from '../../../src/enrich/types';
import { enrichConnEvent } from '../../../src/receivers/connections/pipeline-event';
import { findMount } from '../../../src/kernel/mounts';
import type { ConnEvent } from '../../../src/receivers/connections/event';

const ROOT = findMount('cgroup2');
const enricher = new Enricher();
after(() => enricher.close());

function event(over: Partial<ConnEvent> = {}): ConnEvent {
  return {
    kind: 'close',
    bootNs: nowBootNs(),
    sock: 0xffff8880deadbeefn,
    pid: process.pid,
    tid: process.pid,
    exe: 'node',
    cgroupId: 0,
    netns: 4026531840,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: 'outbound',
    localAddress: '127.0.0.1',
    localPort: 40000,
    remoteAddress: '127.0.0.1',
    remotePort: 8080,
    oldState: 'last_ack',
    newState: 'closed',
    bytesSent: 10,
    bytesReceived: 20,
    srttUs: 30,
    retransmits: 1,
    durationNs: 5e6,
    error: 0,
    counts: undefined,
    ...over,
  };
}

test('the enriched event is a new object carrying every field of the kernel event unchanged', () => {
  const ev = event();
  const frozen = { ...ev };
  const out = enrichConnEvent(enricher, ev);
  assert.notEqual(out, ev);
  assert.deepEqual(ev, frozen, 'the input is not modified');
  for (const k of Object.keys(ev) as (keyof ConnEvent)[]) assert.equal(out[k], ev[k], k);
});

test('the wall-clock time is the event time, not the enrichment time', () => {
  const bootNs = nowBootNs() - 2e9;
  const out = enrichConnEvent(enricher, event({ bootNs }));
  assert.ok(Math.abs(out.timeUnixMs - (Date.now() - 2000)) < 10, `${out.timeUnixMs} vs ${Date.now() - 2000}`);
});

test('an event without a boot-time stamp is dated now', () => {
  assert.ok(Math.abs(enrichConnEvent(enricher, event({ bootNs: 0 })).timeUnixMs - Date.now()) < 10);
});

test('an event from pid 0 carries no process, and one from cgroup 0 no container', () => {
  const out = enrichConnEvent(enricher, event({ pid: 0, exe: '', cgroupId: 0 }));
  assert.equal(out.process, undefined);
  assert.equal(out.container, undefined);
  assert.equal(out.nomad, undefined);
});

test('an executable the kernel named needs no pid: a counter row is named by it alone', () => {
  const out = enrichConnEvent(enricher, event({ pid: 0, exe: 'nginx', cgroupId: 0 }));
  assert.deepEqual({ ...out.process }, { pid: 0, executableName: 'nginx', commandLine: '' });
});

test('the process is read once, then every later event of the pid shares the cached info', () => {
  const e = new Enricher();
  try {
    const first = enrichConnEvent(e, event()).process;
    const second = enrichConnEvent(e, event()).process;
    assert.equal(second, first);
    assert.equal(e.stats().process.procReads, 1);
    assert.equal(e.stats().process.hits, 1);
  } finally {
    e.close();
  }
});

test('a cgroup is resolved once, then every later event of the cgroup shares the cached container', { skip: ROOT === undefined && 'no cgroup2 mount' }, () => {
  const e = new Enricher();
  try {
    const cgroupId = statSync(ROOT!).ino;
    const first = enrichConnEvent(e, event({ cgroupId })).container;
    const second = enrichConnEvent(e, event({ cgroupId })).container;
    assert.equal(second, first);
    const s = e.stats().cgroup;
    assert.deepEqual([s.walks, s.hits, s.misses], [1, 1, 1]);
  } finally {
    e.close();
  }
});

test('without a cgroup2 mount every cgroup is unknown, and nothing throws', () => {
  const e = new Enricher({ cgroupRoot: '/nonexistent-cgroup-mount' });
  try {
    assert.deepEqual({ ...enrichConnEvent(e, event({ cgroupId: 1 })).container }, { cgroupPath: '', runtime: 'unknown' });
  } finally {
    e.close();
  }
});

test('stats report events and every cache', () => {
  const e = new Enricher({ processCacheSize: 3, cgroupCacheSize: 5, nomadCacheSize: 7 });
  try {
    enrichConnEvent(e, event());
    const s = e.stats();
    assert.equal(s.events, 1);
    assert.deepEqual([s.process.capacity, s.cgroup.capacity, s.nomad.capacity], [3, 5, 7]);
    assert.equal(s.process.size, 1);
  } finally {
    e.close();
  }
});

test(
  'an owner known by pid, comm and cgroup gets the same cached process and container as a connection event',
  { skip: ROOT === undefined && 'no cgroup2 mount' },
  () => {
    const e = new Enricher();
    try {
      const cgroupId = statSync(ROOT!).ino;
      const conn = enrichConnEvent(e, event({ cgroupId }));
      const owner = e.enrichOwner(process.pid, 'node', cgroupId, nowBootNs());
      assert.equal(owner.process, conn.process, 'one process cache');
      assert.equal(owner.container, conn.container, 'one cgroup cache');
      assert.equal(e.stats().process.procReads, 1);
      assert.equal(e.stats().cgroup.walks, 1);
    } finally {
      e.close();
    }
  },
);

test('an owner known only by its cgroup has a container but no process; one with nothing has neither', () => {
  const e = new Enricher({ cgroupRoot: '/nonexistent-cgroup-mount' });
  try {
    const byCgroup = e.enrichOwner(0, '', 7, 0);
    assert.equal(byCgroup.process, undefined);
    assert.deepEqual({ ...byCgroup.container }, { cgroupPath: '', runtime: 'unknown' });
    const none = e.enrichOwner(0, '', 0, 0);
    assert.deepEqual([none.process, none.container, none.nomad], [undefined, undefined, undefined]);
    assert.ok(Math.abs(none.timeUnixMs - Date.now()) < 10, 'a stamp of 0 means now');
  } finally {
    e.close();
  }
});

test('enrichInto overwrites every field of the object it is given, so a reused one never keeps the last owner', () => {
  const e = new Enricher({ cgroupRoot: '/nonexistent-cgroup-mount' });
  try {
    const scratch = emptyEnrichment();
    const first = e.enrichInto(scratch, process.pid, 'node', 7, 0);
    assert.equal(first, scratch, 'no new object');
    assert.notEqual(scratch.process, undefined);
    assert.notEqual(scratch.container, undefined);
    e.enrichInto(scratch, 0, '', 0, 0);
    assert.deepEqual([scratch.process, scratch.container, scratch.nomad], [undefined, undefined, undefined]);
    assert.ok(Math.abs(scratch.timeUnixMs - Date.now()) < 10);
  } finally {
    e.close();
  }
});
