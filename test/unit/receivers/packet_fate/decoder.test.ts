import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FateDecoder } from '../../../../src/receivers/packet_fate/decoder';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  FATE_EVENT,
  FATE_FLAG_OWNER_KNOWN,
  FATE_KEY,
  FATE_KIND,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../../../src/receivers/packet_fate/layout';
import { ReasonNames } from '../../../../src/receivers/packet_fate/reasons';

const names = new ReasonNames(
  new Map([
    ['SKB_NOT_DROPPED_YET', 0],
    ['SKB_CONSUMED', 1],
    ['SKB_DROP_REASON_NOT_SPECIFIED', 2],
    ['SKB_DROP_REASON_NO_SOCKET', 3],
    ['SKB_DROP_REASON_NETFILTER_DROP', 12],
  ]),
  new Map([
    ['SK_RST_REASON_NOT_SPECIFIED', 0],
    ['SK_RST_REASON_NO_SOCKET', 1],
  ]),
  undefined,
);
const E = FATE_EVENT.fields;
const K = FATE_KEY.fields;

function record(fill: (v: DataView, b: Uint8Array) => void, size: number = FATE_EVENT.size): { v: DataView; b: Uint8Array } {
  const b = new Uint8Array(size + 16);
  const v = new DataView(b.buffer);
  fill(v, b);
  return { v, b };
}

/** A dropped SYN 10.0.0.1:40000 -> 10.0.0.2:443 on eth0, owned by curl. */
function droppedSyn(v: DataView, b: Uint8Array): void {
  v.setBigUint64(E.ts_ns, 123_456_789n, true);
  v.setBigUint64(E.epoch, 7n, true);
  v.setBigUint64(E.sock, 0xffff888012345678n, true);
  v.setBigUint64(E.cgroup_id, 4242n, true);
  v.setBigUint64(E.location, 0xffffffff81abcdefn, true);
  v.setUint32(E.pid, 1000, true);
  v.setUint32(E.tid, 1001, true);
  v.setUint32(E.netns, 4026531840, true);
  v.setUint32(E.ifindex, 2, true);
  v.setUint32(E.reason, 12, true);
  v.setUint32(E.len, 60, true);
  v.setUint16(E.family, AF_INET, true);
  v.setUint16(E.sport, 40000, true);
  v.setUint16(E.dport, 443, true);
  v.setUint8(E.kind, FATE_KIND.DROP);
  v.setUint8(E.protocol, IPPROTO_TCP);
  v.setUint8(E.tcp_flags, 0x02);
  v.setUint8(E.flags, FATE_FLAG_OWNER_KNOWN);
  b.set([10, 0, 0, 1], E.saddr);
  b.set([10, 0, 0, 2], E.daddr);
  b.set(Buffer.from('curl'), E.comm);
  b.set(Buffer.from('eth0'), E.ifname);
}

test('a sampled drop decodes field by field, with the reason named by the kernel enum', () => {
  const d = new FateDecoder(names);
  const { v, b } = record(droppedSyn);
  assert.deepEqual(d.sample(v, b, 0, FATE_EVENT.size), {
    kind: 'drop',
    reason: 'NETFILTER_DROP',
    networkType: 'ipv4',
    transport: 'tcp',
    state: undefined,
    netns: 4026531840,
    ifindex: 2,
    interfaceName: 'eth0',
    pid: 1000,
    comm: 'curl',
    cgroupId: 4242,
    bootNs: 123_456_789,
    epoch: 7,
    sock: 0xffff888012345678n,
    tid: 1001,
    location: 0xffffffff81abcdefn,
    length: 60,
    sourceAddress: '10.0.0.1',
    sourcePort: 40000,
    destinationAddress: '10.0.0.2',
    destinationPort: 443,
    tcpFlags: 0x02,
  });
  assert.equal(d.decoded, 1);
});

test('a reset sent is named by enum sk_rst_reason, with the TCP state, over IPv6', () => {
  const d = new FateDecoder(names);
  const { v, b } = record((v, b) => {
    v.setUint8(E.kind, FATE_KIND.RESET_SENT);
    v.setUint16(E.family, AF_INET6, true);
    v.setUint8(E.protocol, IPPROTO_TCP);
    v.setUint32(E.reason, 1, true);
    v.setUint8(E.state, 0); // no socket: state unknown
    b.set([0xfd, 0, 0, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], E.saddr);
  });
  const s = d.sample(v, b, 0, FATE_EVENT.size)!;
  assert.deepEqual([s.kind, s.reason, s.state, s.networkType, s.sourceAddress], ['reset_sent', 'NO_SOCKET', undefined, 'ipv6', 'fd00:dc::2']);
});

test('a received reset carries the socket state and no reason', () => {
  const d = new FateDecoder(names);
  const { v, b } = record((v) => {
    v.setUint8(E.kind, FATE_KIND.RESET_RECEIVED);
    v.setUint16(E.family, AF_INET, true);
    v.setUint8(E.protocol, IPPROTO_TCP);
    v.setUint8(E.state, 1);
    v.setUint32(E.reason, 5, true); // ignored for this kind
  });
  const s = d.sample(v, b, 0, FATE_EVENT.size)!;
  assert.deepEqual([s.reason, s.state], ['', 'established']);
});

test('a drop that is not IP has no addresses; an AF_UNIX one is transport unix', () => {
  const d = new FateDecoder(names);
  const { v, b } = record((v) => {
    v.setUint8(E.kind, FATE_KIND.DROP);
    v.setUint16(E.family, AF_UNIX, true);
    v.setUint32(E.reason, 2, true);
  });
  const s = d.sample(v, b, 0, FATE_EVENT.size)!;
  assert.deepEqual([s.networkType, s.transport, s.sourceAddress, s.destinationAddress, s.reason], [undefined, 'unix', '', '', 'NOT_SPECIFIED']);
});

test('ICMPv6 drops are transport icmp', () => {
  const d = new FateDecoder(names);
  const { v, b } = record((v) => {
    v.setUint8(E.kind, FATE_KIND.DROP);
    v.setUint16(E.family, AF_INET6, true);
    v.setUint8(E.protocol, IPPROTO_ICMPV6);
  });
  assert.equal(d.sample(v, b, 0, FATE_EVENT.size)!.transport, 'icmp');
});

test('records of the wrong size, an unknown kind or a socket event without an IP family are counted and skipped', () => {
  const d = new FateDecoder(names);
  const short = record(droppedSyn);
  assert.equal(d.sample(short.v, short.b, 0, FATE_EVENT.size - 8), undefined);
  const kind = record((v, b) => {
    droppedSyn(v, b);
    v.setUint8(E.kind, 9);
  });
  assert.equal(d.sample(kind.v, kind.b, 0, FATE_EVENT.size), undefined);
  const family = record((v) => {
    v.setUint8(E.kind, FATE_KIND.RETRANSMIT);
    v.setUint16(E.family, 0, true);
  });
  assert.equal(d.sample(family.v, family.b, 0, FATE_EVENT.size), undefined);
  assert.deepEqual(d.errors, { size: 1, kind: 1, family: 1 });
  assert.equal(d.decodeErrors, 3);
  assert.equal(d.decoded, 0);
});

test('a table key decodes into the fields a count carries', () => {
  const d = new FateDecoder(names);
  const b = new Uint8Array(FATE_KEY.size);
  const v = new DataView(b.buffer);
  v.setBigUint64(K.cgroup_id, 77n, true);
  v.setUint32(K.pid, 0, true);
  v.setUint32(K.netns, 4026532000, true);
  v.setUint32(K.ifindex, 3, true);
  v.setUint32(K.reason, 3, true);
  v.setUint16(K.family, AF_INET, true);
  v.setUint8(K.kind, FATE_KIND.DROP);
  v.setUint8(K.protocol, IPPROTO_UDP);
  b.set(Buffer.from('veth0'), K.ifname);
  assert.deepEqual(d.key(v, b, 0), {
    kind: 'drop',
    reason: 'NO_SOCKET',
    networkType: 'ipv4',
    transport: 'udp',
    state: undefined,
    netns: 4026532000,
    ifindex: 3,
    interfaceName: 'veth0',
    pid: 0,
    comm: '',
    cgroupId: 77,
  });
  v.setUint8(K.kind, 0);
  assert.equal(d.key(v, b, 0), undefined);
  assert.equal(d.errors.kind, 1);
});
