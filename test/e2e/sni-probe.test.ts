// The sni receiver on the real kernel: a container-like namespace whose veth peer is in the host
// namespace, the receiver on the host-side veth, real TLS clients and servers on both sides over
// IPv4 and IPv6, hand-made hellos written segment by segment, SYNs nobody answers, ports changed at
// runtime, and nothing of ours left on the interface after stop.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/config';
import type { ConnectionsReceiverConfig } from '../../src/receivers/connections/config';
import type { SniReceiverConfig } from '../../src/receivers/sni/config';
import { Enricher } from '../../src/enrich/enricher';
import type { PipelineEvent, SniPipelineEvent } from '../../src/pipeline/event';
import { ConnectionsReceiver } from '../../src/receivers/connections/receiver';
import { SniReceiver } from '../../src/receivers/sni/receiver';
import { heldBpfObjects, PROGRAMS } from '../helpers/bpf-objects';
import { createContainerNetns, sh, tcState, type ContainerNetns } from '../helpers/container-netns';
import { connectRefused, curlHello, nodeTlsHello, opensslHello, writeInSegments, startTlsServer } from '../helpers/tls-clients';
import { readFixture } from '../unit/receivers/sni/capture';

const W1 = 8443,
  W2 = 9443,
  UNWATCHED = 10443,
  NOBODY = 6443;

function receiverConfig(ifname: string, ports: number[]): { sni: SniReceiverConfig; conn: ConnectionsReceiverConfig } {
  const cfg = parseConfig(
    `receivers:\n  connections:\n    seed_existing: false\n  sni:\n    interfaces: [${ifname}]\n    ports: [${ports.join(', ')}]\n    poll_interval: 5ms\n` +
      'exporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [connections, sni]\n      exporters: [debug]\n',
    'test',
    {},
  );
  return { sni: cfg.receivers.sni as SniReceiverConfig, conn: cfg.receivers.connections as ConnectionsReceiverConfig };
}

let net: ContainerNetns;
let enricher: Enricher;
let conn: ConnectionsReceiver;
let sni: SniReceiver;
let cfg: SniReceiverConfig;
const servers: ChildProcess[] = [];
const events: SniPipelineEvent[] = [];

const hellos = (name?: string) => events.filter((e) => e.kind === 'client_hello' && (name === undefined || e.serverName === name));
const syns = (port: number) => events.filter((e) => e.kind === 'syn' && e.serverPort === port);

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => [e.kind, e.serverName, e.serverPort, e.direction]))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
/** Long enough for any late duplicate to show up. */
const settle = () => new Promise((r) => setTimeout(r, 400));

before(async () => {
  net = createContainerNetns('nwsp', 210);
  servers.push(await startTlsServer('nws-tls-ns', '::', [W1, W2, UNWATCHED], net.ns));
  servers.push(await startTlsServer('nws-tls-h4', net.host4, [W1, W2, UNWATCHED]));
  servers.push(await startTlsServer('nws-tls-h6', net.host6, [W1, W2, UNWATCHED]));
  enricher = new Enricher();
  const rc = receiverConfig(net.hostIf, [W1, W2, NOBODY]);
  cfg = rc.sni;
  conn = new ConnectionsReceiver('connections', rc.conn, { enricher, dispatch: () => {}, shared: () => ({}) });
  conn.start();
  sni = new SniReceiver('sni', cfg, { enricher, dispatch: (ev: PipelineEvent) => ev.source === 'sni' && events.push(ev), shared: () => conn.sharedMaps() });
  sni.start();
});

after(() => {
  sni?.stop();
  conn?.stop();
  enricher?.close();
  for (const s of servers) s.kill();
  net?.remove();
});

test('the receiver attaches one ingress and one egress program to the host-side veth as TCX links, with no qdisc', () => {
  assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: ['tcx sni_ingress'], egress: ['tcx sni_egress'] });
  assert.deepEqual(sni.interfaces(), [net.hostIf]);
});

test('real clients over IPv4 and IPv6, both directions: every server name once on the watched ports, none on the unwatched one', async () => {
  events.length = 0;
  // Egress: host-side clients to the server in the namespace.
  await nodeTlsHello(net.ns4, W1, 'node4.example');
  await nodeTlsHello(net.ns6, W2, 'node6.example');
  await opensslHello(net.ns4, W2, 'openssl4.example');
  await opensslHello(net.ns6, W1, 'openssl6.example');
  await curlHello(net.ns4, W1, 'curl4.example');
  await curlHello(net.ns6, W2, 'curl6.example');
  // Ingress: clients in the namespace to the servers on the host side.
  await opensslHello(net.host4, W1, 'in-openssl4.example', net.ns);
  await opensslHello(net.host6, W2, 'in-openssl6.example', net.ns);
  await curlHello(net.host4, W2, 'in-curl4.example', net.ns);
  await curlHello(net.host6, W1, 'in-curl6.example', net.ns);
  // The unwatched port, both ways.
  await nodeTlsHello(net.ns4, UNWATCHED, 'unwatched.example');
  await opensslHello(net.ns6, UNWATCHED, 'unwatched.example');
  await curlHello(net.host4, UNWATCHED, 'unwatched.example', net.ns);

  const expected: [string, number, 'ipv4' | 'ipv6', 'egress' | 'ingress'][] = [
    ['node4.example', W1, 'ipv4', 'egress'],
    ['node6.example', W2, 'ipv6', 'egress'],
    ['openssl4.example', W2, 'ipv4', 'egress'],
    ['openssl6.example', W1, 'ipv6', 'egress'],
    ['curl4.example', W1, 'ipv4', 'egress'],
    ['curl6.example', W2, 'ipv6', 'egress'],
    ['in-openssl4.example', W1, 'ipv4', 'ingress'],
    ['in-openssl6.example', W2, 'ipv6', 'ingress'],
    ['in-curl4.example', W2, 'ipv4', 'ingress'],
    ['in-curl6.example', W1, 'ipv6', 'ingress'],
  ];
  await until('ten hellos', () => hellos().length >= expected.length);
  await settle();
  assert.equal(hellos().length, expected.length, 'exactly one hello per connection to a watched port');
  for (const [name, port, type, direction] of expected) {
    const got = hellos(name);
    assert.equal(got.length, 1, name);
    assert.equal(got[0].serverPort, port, name);
    assert.equal(got[0].networkType, type, name);
    assert.equal(got[0].direction, direction, name);
    assert.equal(got[0].interfaceName, net.hostIf);
    assert.ok(got[0].versions.includes(0x0304), `${name} offers TLS 1.3`);
    assert.equal(typeof got[0].readAtNs, 'bigint');
  }
  assert.deepEqual(hellos('node4.example')[0].alpn, ['h2']);
  assert.deepEqual(hellos('openssl6.example')[0].alpn, ['h2', 'http/1.1']);
  assert.equal(hellos('unwatched.example').length, 0);
  assert.equal(events.filter((e) => e.serverPort === UNWATCHED).length, 0, 'not even a SYN of the unwatched port');
  // One SYN event per connection attempt to a watched port.
  assert.equal(syns(W1).length + syns(W2).length, expected.length);
});

test("a local client that owns its socket is attributed: pid from the conn probe's socket storage, cgroup from the socket", async () => {
  events.length = 0;
  await nodeTlsHello(net.ns4, W1, 'mine.example');
  await opensslHello(net.ns6, W2, 'openssl-owner.example');
  await opensslHello(net.host4, W2, 'from-elsewhere.example', net.ns);
  await until('three hellos', () => hellos().length >= 3);
  const mine = hellos('mine.example')[0];
  assert.equal(mine.pid, process.pid);
  assert.ok(mine.cgroupId > 0);
  assert.equal(mine.process?.pid, process.pid);
  const ossl = hellos('openssl-owner.example')[0];
  assert.ok(ossl.pid > 0 && ossl.pid !== process.pid, 'the openssl process, not the test');
  assert.equal(ossl.process?.executableName, 'openssl');
  // Ingress: the client is beyond the interface; the host owns no client socket.
  const other = hellos('from-elsewhere.example')[0];
  assert.equal(other.pid, 0);
  assert.equal(other.process, undefined);
});

test('a ClientHello written in two TCP segments and one split across two TLS records are both found', async () => {
  events.length = 0;
  const curlBytes = readFixture('curl-sni-and-alpn.hex');
  const split = readFixture('hello-split-across-two-records.hex');
  const pq = readFixture('large-hello-post-quantum-key-share.hex');
  await writeInSegments(net.ns4, W1, curlBytes, [Math.floor(curlBytes.length / 2)]);
  await writeInSegments(net.ns6, W2, split, [3, 150]);
  await writeInSegments(net.ns4, W2, pq, [700, 1400]);
  await until('three hellos', () => hellos().length >= 3);
  await settle();
  assert.deepEqual(
    hellos()
      .map((e) => e.serverName)
      .sort(),
    ['curl.example.com', 'pq.example.com', 'split.example.com'],
  );
});

test('GREASE, no server name, ECH and an SSLv2-compatible hello, sent through the kernel', async () => {
  events.length = 0;
  const ports = await Promise.all([
    writeInSegments(net.ns4, W1, readFixture('grease-in-extensions-versions-alpn-and-ciphers.hex')),
    writeInSegments(net.ns6, W1, readFixture('no-server-name-extension.hex')),
    writeInSegments(net.ns4, W2, readFixture('ech-outer-hello-with-public-name.hex')),
    writeInSegments(net.ns6, W2, readFixture('sslv2-compatible-hello.hex')),
  ]);
  await until('four hellos', () => hellos().length >= 4);
  await settle();
  const by = (port: number) => hellos().filter((e) => e.clientPort === port);
  const [grease, none, ech, v2] = ports.map((p) => by(p));
  assert.equal(grease.length, 1);
  assert.equal(grease[0].serverName, 'grease.example.com');
  assert.deepEqual(grease[0].alpn, ['h2', 'http/1.1']);
  assert.deepEqual(grease[0].versions, [0x0304, 0x0303]);
  assert.equal(none.length, 1);
  assert.equal(none[0].serverName, undefined);
  assert.equal(ech.length, 1);
  assert.equal(ech[0].serverName, 'public.example.net');
  assert.equal(ech[0].ech, true);
  assert.equal(v2.length, 1);
  assert.equal(v2[0].sslv2, true);
  assert.equal(v2[0].serverName, undefined);
});

test('SYNs to a watched port where nothing listens are dispatched once per attempt, in both directions', async () => {
  events.length = 0;
  assert.equal(await connectRefused(net.ns4, NOBODY), 'ECONNREFUSED');
  assert.equal(await connectRefused(net.ns6, NOBODY), 'ECONNREFUSED');
  const inside = await curlHello(net.host4, NOBODY, 'nobody.example', net.ns);
  assert.notEqual(inside.code, 0);
  await until('three SYNs', () => syns(NOBODY).length >= 3);
  await settle();
  const s = syns(NOBODY);
  assert.equal(s.length, 3);
  assert.deepEqual(
    s.map((e) => [e.networkType, e.direction]),
    [
      ['ipv4', 'egress'],
      ['ipv6', 'egress'],
      ['ipv4', 'ingress'],
    ],
  );
  assert.equal(s[0].pid, process.pid, 'the connecting socket is ours');
  assert.equal(s[0].serverAddress, net.ns4);
  assert.equal(hellos().length, 0);
});

test('ports changed at runtime take effect at once, without re-attaching the programs', async () => {
  const before = heldBpfObjects(process.pid);
  const filters = tcState(net.hostIf);
  assert.equal(sni.update({ ...cfg, ports: [W1, UNWATCHED] }), true);
  events.length = 0;
  await nodeTlsHello(net.ns4, UNWATCHED, 'now-watched.example');
  await nodeTlsHello(net.ns4, W2, 'no-longer-watched.example');
  await nodeTlsHello(net.ns4, W1, 'still-watched.example');
  await until('two hellos', () => hellos().length >= 2);
  await settle();
  assert.deepEqual(
    hellos()
      .map((e) => e.serverName)
      .sort(),
    ['now-watched.example', 'still-watched.example'],
  );
  assert.deepEqual(heldBpfObjects(process.pid), before, 'the same programs');
  assert.deepEqual(tcState(net.hostIf), filters, 'the same filters');
  assert.equal(sni.update({ ...cfg, interfaces: ['lo'] }), false, 'another interface needs a re-attach');
  assert.equal(sni.update({ ...cfg }), true);
});

test('a watched port carrying something other than TLS is counted as a rejection by reason, and no record was undecodable', async () => {
  events.length = 0;
  await writeInSegments(net.ns4, W1, new TextEncoder().encode('GET / HTTP/1.1\r\nhost: plain.example\r\n\r\n'));
  await until('the rejection', () => (sni.stats().rejections?.not_handshake ?? 0) >= 1);
  assert.equal(sni.stats().decodeErrors, 0);
  assert.equal(hellos().length, 0);
});

test("after stop, none of the receiver's programs remain on the interface", () => {
  const held = heldBpfObjects(process.pid);
  sni.stop();
  assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: [], egress: [] });
  const left = heldBpfObjects(process.pid).progIds.filter((id) => held.progIds.includes(id));
  assert.equal(left.length, PROGRAMS.conn, 'only the conn probe programs remain');
});

test('on an interface that already had a clsact qdisc, TCX programs run beside it and stop leaves the qdisc and its filters untouched', () => {
  const other = createContainerNetns('nwsq', 212);
  try {
    sh('tc', 'qdisc', 'add', 'dev', other.hostIf, 'clsact');
    sh('tc', 'filter', 'add', 'dev', other.hostIf, 'ingress', 'pref', '60000', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'flowid', '1:1');
    const { sni: c } = receiverConfig(other.hostIf, [W1]);
    const r = new SniReceiver('sni/q', c, { enricher, dispatch: () => {}, shared: () => ({}) });
    r.start();
    assert.deepEqual(tcState(other.hostIf), { clsact: true, ingress: ['tcx sni_ingress', '60000 u32'], egress: ['tcx sni_egress'] });
    r.stop();
    assert.deepEqual(tcState(other.hostIf), { clsact: true, ingress: ['60000 u32'], egress: [] });
  } finally {
    other.remove();
  }
});

test('with attach_mode clsact, on an interface that already had a clsact qdisc, stop removes only our filters and leaves the qdisc and its other filters', () => {
  const other = createContainerNetns('nwsq', 212);
  try {
    sh('tc', 'qdisc', 'add', 'dev', other.hostIf, 'clsact');
    sh('tc', 'filter', 'add', 'dev', other.hostIf, 'ingress', 'pref', '60000', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'flowid', '1:1');
    const { sni: c } = receiverConfig(other.hostIf, [W1]);
    const r = new SniReceiver('sni/q', { ...c, attach_mode: 'clsact' }, { enricher, dispatch: () => {}, shared: () => ({}) });
    r.start();
    // netwatch's tag: handle 0x6e77 at priority 0xc177 (49527).
    assert.deepEqual(tcState(other.hostIf), { clsact: true, ingress: ['49527 bpf sni_ingress', '60000 u32'], egress: ['49527 bpf sni_egress'] });
    r.stop();
    assert.deepEqual(tcState(other.hostIf), { clsact: true, ingress: ['60000 u32'], egress: [] });
  } finally {
    other.remove();
  }
});
