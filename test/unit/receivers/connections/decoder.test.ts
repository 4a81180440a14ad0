import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIPv4, formatIPv6 } from '../../../../src/wire/addr';
import { ConnDecoder } from '../../../../src/receivers/connections/decoder';
import type { ConnEvent } from '../../../../src/receivers/connections/event';
import { CONN_EVENT, CONN_OWNER } from '../../../../src/receivers/connections/layout';
import { RawStringCache } from '../../../../src/wire/raw-strings';
import { packRecords, testExeName } from '../../../helpers/conn-records';

const F = CONN_EVENT.fields;
const O = CONN_OWNER.fields;

function event(overrides: Partial<ConnEvent> = {}): ConnEvent {
  return {
    kind: 'close',
    bootNs: 123_456_789_012_345,
    sock: 0xffff_8880_1234_5600n,
    pid: 4242,
    tid: 4243,
    exe: 'curl',
    cgroupId: 9876,
    netns: 4026531840,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: 'outbound',
    localAddress: '10.0.0.2',
    localPort: 40000,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    oldState: 'fin_wait_2',
    newState: 'closed',
    bytesSent: 1_234_567,
    bytesReceived: 89,
    srttUs: 250,
    retransmits: 3,
    durationNs: 5_000_000_001,
    error: 0,
    counts: undefined,
    ...overrides,
  };
}

function decodeAll(events: ConnEvent[], decoder = new ConnDecoder(testExeName)): ConnEvent[] {
  const out: ConnEvent[] = [];
  decoder.decodeBatch(packRecords(events), (ev) => out.push(ev));
  return out;
}

test('a record decodes to exactly the event the kernel wrote, field by field', () => {
  const events = [
    event(),
    event({
      kind: 'connect',
      transport: 'udp',
      networkType: 'ipv6',
      localAddress: '::',
      localPort: 0,
      remoteAddress: '2001:db8::53',
      remotePort: 53,
      oldState: 'unknown',
      newState: 'unknown',
      bytesSent: 0,
      bytesReceived: 0,
      srttUs: 0,
      retransmits: 0,
      durationNs: 0,
    }),
    event({
      kind: 'accept',
      direction: 'inbound',
      exe: 'an-executable-name-longer-than-a-comm',
      networkType: 'ipv6',
      localAddress: 'fd00:1::2',
      remoteAddress: 'fd00:1::1',
      error: 0,
    }),
    event({ kind: 'state', direction: 'unknown', pid: 0, tid: 0, exe: '', cgroupId: 0, oldState: 'listen', newState: 'syn_received' }),
    event({ error: 111, oldState: 'syn_sent' }),
  ];
  assert.deepEqual(decodeAll(events), events);
});

test('u64 counters decode as Number(BigInt) does, exactly below 2^53 and rounded the same way above it', () => {
  const batch = packRecords([event()]);
  const o = batch.offsets[0];
  const values = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 63n + 12345n, 2n ** 64n - 1n];
  for (const v of values) {
    for (const at of [F.ts_ns, F.owner + O.cgroup_id, F.bytes_sent, F.bytes_received, F.duration_ns]) batch.view.setBigUint64(o + at, v, true);
    const ev = new ConnDecoder().decode(batch.view, batch.bytes, o, CONN_EVENT.size)!;
    for (const n of [ev.bootNs, ev.cgroupId, ev.bytesSent, ev.bytesReceived, ev.durationNs]) assert.equal(n, Number(v), `value ${v}`);
  }
});

test('the executable is named by the kernel table the record points into, and unnamed when the table has no entry', () => {
  const [named] = decodeAll([event({ exe: 'nginx' })]);
  assert.equal(named.exe, 'nginx');
  const [unknown] = decodeAll([event({ exe: 'nginx' })], new ConnDecoder(() => ''));
  assert.equal(unknown.exe, '');
  const [threadless] = decodeAll([event({ exe: '' })]);
  assert.equal(threadless.exe, '', 'inode 0 (no mm: a kernel thread) has no executable');
});

test('addresses decode to their own text even when thousands of them share cache slots', () => {
  // Random bytes, more distinct values than the caches have slots, each decoded several times in a shuffled order.
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const base = packRecords([event(), event({ networkType: 'ipv6', localAddress: '::1', remoteAddress: '::1' })]);
  const decoder = new ConnDecoder();
  for (let round = 0; round < 4000; round++) {
    const which = round % 2;
    const o = base.offsets[which];
    for (let i = 0; i < 16; i++) {
      base.bytes[o + F.laddr + i] = which ? rnd() % 3 : rnd();
      base.bytes[o + F.raddr + i] = rnd();
    }
    const ev = decoder.decode(base.view, base.bytes, o, CONN_EVENT.size)!;
    const fmt = which ? formatIPv6 : formatIPv4;
    assert.equal(ev.localAddress, fmt(base.bytes, o + F.laddr));
    assert.equal(ev.remoteAddress, fmt(base.bytes, o + F.raddr));
  }
});

test('the raw string cache returns a string only for exactly the words it was stored under', () => {
  const cache = new RawStringCache(1); // two slots: collisions guaranteed
  cache.set(1, 2, 3, 4, 'a');
  assert.equal(cache.get(1, 2, 3, 4), 'a');
  assert.equal(cache.get(1, 2, 3, 5), undefined);
  for (let i = 0; i < 50; i++) cache.set(i, 0, 0, 0, `v${i}`);
  for (let i = 0; i < 50; i++) assert.ok([undefined, `v${i}`].includes(cache.get(i, 0, 0, 0)));
});

test('a record of the wrong size or with an unknown kind is counted and skipped, and the next one still decodes', () => {
  const batch = packRecords([event(), event({ kind: 'state', newState: 'established', oldState: 'syn_sent' }), event()]);
  batch.lengths[0] = CONN_EVENT.size - 8;
  batch.view.setUint8(batch.offsets[1] + F.kind, 99);
  const decoder = new ConnDecoder(testExeName);
  const out: ConnEvent[] = [];
  decoder.decodeBatch(batch, (ev) => out.push(ev));
  assert.deepEqual(out, [event()]);
  assert.deepEqual(decoder.errors, { size: 1, kind: 1, family: 0, protocol: 0, state: 0 });
});
