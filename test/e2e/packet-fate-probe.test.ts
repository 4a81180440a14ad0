// The packet_fate probe against the real kernel, with traffic inside namespaces the test makes.
// Counts are scoped to those namespaces (by netns inode), so other traffic on the machine cannot
// change them. This kernel has no netem: loss is made with nftables rules (test/helpers/nft.ts).
// These tests never skip: a machine without BPF fails them.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/errors';
import { cgroup2Root, ensureTracefs } from '../../src/kernel/mounts';
import type { FateKind } from '../../src/receivers/packet_fate/event';
import { Kallsyms } from '../../src/receivers/packet_fate/kallsyms';
import { ReasonNames } from '../../src/receivers/packet_fate/reasons';
import { heldBpfObjects, stillExisting } from '../helpers/bpf-objects';
import { runConnProbe, type ProbeRun } from '../helpers/conn-probe';
import { runFateProbe, type EpochCount, type FateRun } from '../helpers/fate-probe';
import { createNetnsPair, type NetnsPair } from '../helpers/netns';
import { filterChain, nft } from '../helpers/nft';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

const K = 25; // datagrams per family to a port an nftables rule drops
const N = 4; // TCP connection attempts whose SYNs are dropped
const M = 6; // connections to a closed port
const R = 4; // connections the peer resets
const LOST_SEGMENTS = 3; // data segments the numgen rule drops
const STORM = 20_000; // datagrams of the drop storm
const SAMPLES = 10; // sampled records per kind and interval in the storm

/** cgroup v2 id of a running process. */
function cgroupIdOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!;
  return statSync(cgroup2Root() + line.slice(3)).ino;
}

const inNs =
  (ns: number, kind: FateKind, more: (c: EpochCount) => boolean = () => true) =>
  (c: EpochCount) =>
    c.netns === ns && c.kind === kind && more(c);

let conn: ProbeRun;
let fate: FateRun;
const held = { before: heldBpfObjects(process.pid), during: heldBpfObjects(process.pid) };

before(() => {
  conn = runConnProbe();
  held.before = heldBpfObjects(process.pid);
  // Sample far more than the machine drops per interval (the budget is shared with every other
  // drop on the host), in a ring that holds bursts: every drop of the test is then sampled.
  fate = runFateProbe({ ownersFd: conn.probe.ownersFd(), sampleLimit: 1_000_000, ringBytes: 1 << 23 });
  held.during = heldBpfObjects(process.pid);
});
after(() => {
  fate?.stop();
  conn?.stop();
});

describe('drops by an nftables rule on a port', () => {
  let pair: NetnsPair;
  let port: number;
  before(() => {
    pair = createNetnsPair('nwpd', 220);
    fate.watchNetns(pair.inoA, pair.inoB);
    port = 9999;
    nft(pair.b, filterChain('input', [`udp dport ${port} drop`, `tcp dport ${port + 1} drop`]));
    nft(pair.a, filterChain('output', [`tcp dport ${port + 2} drop`]));
  });
  after(() => pair?.remove());

  for (const [family, type] of [
    ['IPv4', 'ipv4'],
    ['IPv6', 'ipv6'],
  ] as const) {
    test(`${K} UDP datagrams over ${family} are ${K} drops with the netfilter reason, on the receiving interface`, async () => {
      fate.flush();
      const since = fate.counts.length;
      const sent = await runTraffic('nwp-udp', 'udp-send', [family === 'IPv4' ? pair.addrB4 : pair.addrB6, port, K], { netns: pair.a });
      assert.equal(sent.info.sent, K);
      const udp = (c: EpochCount) => c.transport === 'udp' && c.networkType === type;
      const dropped = () =>
        fate.sum(
          inNs(pair.inoB, 'drop', (c) => udp(c) && c.reason === 'NETFILTER_DROP' && c.interfaceName === 'nwpdvb' && c.ifindex > 0),
          since,
        );
      // A fresh IPv6 link may take a neighbour solicitation retry (1 s) before the datagrams leave.
      await fate.until(() => dropped() >= K, `${K} drops over ${family}`);
      assert.equal(dropped(), K);
      assert.equal(
        fate.sum(
          inNs(pair.inoB, 'drop', (c) => udp(c) && c.reason !== 'NETFILTER_DROP'),
          since,
        ),
        0,
        'no other reason for them',
      );
      assert.equal(fate.sum(inNs(pair.inoA, 'drop', udp), since), 0, 'nothing dropped on the sending side');
    });
  }

  test('SYNs dropped on the way in are counted once per transmission, each retransmission included', async () => {
    fate.flush();
    const since = fate.counts.length;
    await runTraffic('nwp-synin', 'syn-abort', [pair.addrB4, port + 1, N, 300], { netns: pair.a });
    fate.flush();
    const synRetransmits = fate.sum(
      inNs(pair.inoA, 'retransmit', (c) => c.state === 'syn_sent'),
      since,
    );
    assert.equal(
      fate.sum(
        inNs(pair.inoB, 'drop', (c) => c.reason === 'NETFILTER_DROP' && c.transport === 'tcp'),
        since,
      ),
      N + synRetransmits,
    );
  });

  test("SYNs dropped on the way out are attributed to the connecting process through the conn probe's owner map", async () => {
    fate.flush();
    const since = fate.counts.length;
    const firstSample = fate.samples.length;
    const client = await startTraffic('nwp-synout', 'syn-abort', [pair.addrB4, port + 2, N, 300], { netns: pair.a });
    const cgroupId = cgroupIdOf(client.pid);
    await new Promise<void>((r) => client.child.once('exit', () => r()));
    fate.flush();
    const synRetransmits = fate.sum(
      inNs(pair.inoA, 'retransmit', (c) => c.state === 'syn_sent'),
      since,
    );
    const drops = fate.counts.slice(since).filter(inNs(pair.inoA, 'drop', (c) => c.reason === 'NETFILTER_DROP'));
    assert.equal(
      drops.reduce((n, c) => n + c.count, 0),
      N + synRetransmits,
    );
    for (const d of drops) {
      assert.deepEqual([d.pid, d.comm, d.cgroupId, d.transport, d.networkType], [client.pid, 'nwp-synout', cgroupId, 'tcp', 'ipv4']);
      assert.equal(d.interfaceName, '', 'dropped before routing chose an interface');
    }
    const samples = fate.samples.slice(firstSample).filter((s) => s.netns === pair.inoA && s.kind === 'drop' && s.destinationPort === port + 2);
    assert.equal(fate.probe.stats().lost, 0);
    assert.equal(samples.length, N + synRetransmits, 'every one sampled (the budget is far from spent)');
    const kallsyms = new Kallsyms();
    for (const s of samples) {
      assert.deepEqual([s.sourceAddress, s.destinationAddress, s.tcpFlags, s.pid], [pair.addrA4, pair.addrB4, 0x02, client.pid]);
      assert.match(kallsyms.symbolize(s.location) ?? '', /^\w+\+0x[0-9a-f]+$/, 'the place of the drop is a kernel function');
    }
  });
});

describe('resets', () => {
  let pair: NetnsPair;
  let server: Started;
  before(async () => {
    pair = createNetnsPair('nwpr', 221);
    server = await startTraffic('nwp-rstsrv', 'tcp-reset-server', [pair.addrB4], { netns: pair.b });
  });
  after(async () => {
    await stopChild(server);
    pair?.remove();
  });

  test(`${M} connections to a closed port: ${M} resets sent for no socket, ${M} received by the client, ${M} SYNs dropped`, async () => {
    fate.flush();
    const since = fate.counts.length;
    const client = await startTraffic('nwp-refused', 'refused', [pair.addrB4, 9, M], { netns: pair.a });
    await new Promise<void>((r) => client.child.once('exit', () => r()));
    assert.equal(client.info.refused ?? M, M);
    fate.flush();
    assert.equal(
      fate.sum(
        inNs(pair.inoB, 'reset_sent', (c) => c.reason === 'NO_SOCKET' && c.interfaceName === 'nwprvb' && c.pid === 0),
        since,
      ),
      M,
    );
    assert.equal(fate.sum(inNs(pair.inoB, 'reset_sent'), since), M);
    assert.equal(
      fate.sum(
        inNs(pair.inoB, 'drop', (c) => c.reason === 'NO_SOCKET' && c.transport === 'tcp'),
        since,
      ),
      M,
    );
    const received = fate.counts.slice(since).filter(inNs(pair.inoA, 'reset_received'));
    assert.equal(
      received.reduce((n, c) => n + c.count, 0),
      M,
    );
    for (const c of received) assert.deepEqual([c.state, c.pid, c.comm], ['syn_sent', client.pid, 'nwp-refused']);
  });

  test(`a peer that resets ${R} connections: ${R} resets received by the client, ${R} sent from the server's cgroup`, async () => {
    fate.flush();
    const since = fate.counts.length;
    const client = await startTraffic('nwp-rstcli', 'reset-clients', [pair.addrB4, server.info.port as number, R], { netns: pair.a });
    await new Promise<void>((r) => client.child.once('exit', () => r()));
    assert.equal(client.info.reset, R);
    fate.flush();
    const received = fate.counts.slice(since).filter(inNs(pair.inoA, 'reset_received'));
    assert.equal(
      received.reduce((n, c) => n + c.count, 0),
      R,
    );
    for (const c of received) assert.deepEqual([c.state, c.pid, c.comm, c.networkType], ['established', client.pid, 'nwp-rstcli', 'ipv4']);
    // The server resets as it closes: the conn probe has already forgotten the socket, its cgroup remains.
    const sent = fate.counts.slice(since).filter(inNs(pair.inoB, 'reset_sent'));
    assert.equal(
      sent.reduce((n, c) => n + c.count, 0),
      R,
    );
    for (const c of sent) assert.equal(c.cgroupId, cgroupIdOf(server.pid));
  });
});

describe('retransmits', () => {
  let pair: NetnsPair;
  let server: Started;
  before(async () => {
    pair = createNetnsPair('nwpt', 222);
    server = await startTraffic('nwp-acksrv', 'tcp-ack-server', [pair.addrB4], { netns: pair.b });
    // Data segments (longer than any bare ACK) to the server: the first LOST_SEGMENTS are dropped.
    nft(pair.b, filterChain('input', [`tcp dport ${server.info.port as number} meta length > 150 numgen inc mod 1000000 < ${LOST_SEGMENTS} drop`]));
  });
  after(async () => {
    await stopChild(server);
    pair?.remove();
  });

  test(`a request whose first ${LOST_SEGMENTS} transmissions are lost is retransmitted exactly ${LOST_SEGMENTS} times, by the client`, async () => {
    fate.flush();
    const since = fate.counts.length;
    const client = await startTraffic('nwp-lossy', 'tcp-request', [pair.addrB4, server.info.port as number, 400, 1], { netns: pair.a });
    await new Promise<void>((r) => client.child.once('exit', () => r()));
    fate.flush();
    assert.equal(
      fate.sum(
        inNs(pair.inoB, 'drop', (c) => c.reason === 'NETFILTER_DROP'),
        since,
      ),
      LOST_SEGMENTS,
    );
    const rtx = fate.counts.slice(since).filter(inNs(pair.inoA, 'retransmit'));
    assert.equal(
      rtx.reduce((n, c) => n + c.count, 0),
      LOST_SEGMENTS,
    );
    for (const c of rtx) assert.deepEqual([c.state, c.pid, c.comm], ['established', client.pid, 'nwp-lossy']);
    assert.equal(fate.sum(inNs(pair.inoB, 'retransmit'), since), 0, 'the server never had to retransmit');
  });
});

describe('a drop storm', () => {
  let pair: NetnsPair;
  let storm: FateRun;
  before(() => {
    pair = createNetnsPair('nwps', 223);
    nft(pair.b, filterChain('input', ['udp dport 9999 drop']));
    storm = runFateProbe({ sampleLimit: SAMPLES, ringBytes: 1 << 16, kinds: new Set(['drop']), sampledKinds: new Set(['drop']) });
  });
  after(() => {
    storm?.stop();
    pair?.remove();
  });

  test(`${STORM} drops over many intervals: every one counted, no record lost, at most ${SAMPLES} sampled per interval`, async () => {
    storm.flush();
    const since = storm.counts.length;
    const firstEpoch = storm.probe.epoch;
    storm.rotateEvery(50);
    const sent = await runTraffic('nwp-storm', 'udp-send', [pair.addrB4, 9999, STORM], { netns: pair.a });
    storm.rotateEvery(0);
    assert.equal(sent.info.sent, STORM);
    storm.flush();
    const mine = (c: EpochCount) => c.netns === pair.inoB && c.kind === 'drop' && c.transport === 'udp';
    assert.equal(storm.sum(mine, since), STORM);
    assert.equal(
      storm.sum((c) => mine(c) && c.reason !== 'NETFILTER_DROP', since),
      0,
    );
    const epochs = new Set(
      storm.counts
        .slice(since)
        .filter(mine)
        .map((c) => c.epoch),
    );
    assert.ok(epochs.size >= 2, `the storm spanned ${epochs.size} intervals`);
    assert.equal(storm.probe.stats().lost, 0, 'the ring never overflowed');
    assert.equal(storm.probe.overflowedRows, 0);
    // Per interval: exactly min(N, drops of that interval), counting every drop on the machine (the budget is global).
    for (let e = firstEpoch; e < storm.probe.epoch; e++) {
      const total = storm.sum((c) => c.epoch === e && c.kind === 'drop');
      const sampled = storm.samples.filter((s) => s.epoch === e && s.kind === 'drop').length;
      assert.ok(sampled <= SAMPLES, `interval ${e}: ${sampled} samples`);
      assert.equal(sampled, Math.min(SAMPLES, total), `interval ${e}: ${total} drops`);
    }
  });
});

test("the reason names read from BTF are the ones the kernel's own tracepoints print", () => {
  const names = ReasonNames.fromKernel();
  const tracing = ensureTracefs();
  const symbolic = (event: string): [number, string][] => {
    const fmt = readFileSync(`${tracing}/events/${event}/format`, 'utf8');
    const list = fmt.slice(fmt.lastIndexOf('__print_symbolic(REC->reason'));
    return [...list.matchAll(/\{ (\d+), "([A-Z0-9_]+)" \}/g)].map((m) => [Number(m[1]), m[2]]);
  };
  const drops = symbolic('skb/kfree_skb').filter(([, n]) => n !== 'MAX');
  const resets = symbolic('tcp/tcp_send_reset').filter(([, n]) => n !== 'MAX');
  assert.ok(drops.length > 50 && resets.length > 10);
  for (const [v, n] of drops) assert.equal(names.drop(v), n);
  for (const [v, n] of resets) assert.equal(names.reset(v), n);
});

test('without a connections receiver a drop has no pid, but still the cgroup of its socket', async () => {
  const pair = createNetnsPair('nwpu', 224);
  const alone = runFateProbe({ kinds: new Set(['drop']), sampledKinds: new Set() });
  try {
    nft(pair.a, filterChain('output', ['tcp dport 9 drop']));
    const client = await startTraffic('nwp-alone', 'syn-abort', [pair.addrB4, 9, 1, 300], { netns: pair.a });
    const cgroupId = cgroupIdOf(client.pid);
    await new Promise<void>((r) => client.child.once('exit', () => r()));
    alone.flush();
    const drops = alone.counts.filter((c) => c.netns === pair.inoA && c.kind === 'drop' && c.reason === 'NETFILTER_DROP');
    assert.ok(drops.length > 0);
    for (const d of drops) assert.deepEqual([d.pid, d.comm, d.cgroupId], [0, '', cgroupId]);
  } finally {
    alone.stop();
    pair.remove();
  }
});

test('an ignored reason this kernel does not name stops the start with the key path, and loads nothing', () => {
  const beforeIds = heldBpfObjects(process.pid);
  assert.throws(
    () => runFateProbe({ ignoreReasons: ['NOT_SPECIFIED', 'NETFILTER_DORP'], ignoreReasonsPath: 'receivers.packet_fate.ignore_reasons' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 1);
      assert.match(
        e.problems[0],
        /^receivers\.packet_fate\.ignore_reasons: "NETFILTER_DORP" is not a drop reason of this kernel \(enum skb_drop_reason has: NOT_SPECIFIED, NO_SOCKET, .*NETFILTER_DROP/,
      );
      return true;
    },
  );
  assert.deepEqual(heldBpfObjects(process.pid), beforeIds);
});

test("a kind nobody asked for loads no program, and stop leaves none of the probe's programs or links", () => {
  const beforeIds = heldBpfObjects(process.pid);
  const run = runFateProbe({ kinds: new Set(['drop', 'reset_sent']), sampledKinds: new Set() });
  const during = heldBpfObjects(process.pid);
  const progs = during.progIds.filter((id) => !beforeIds.progIds.includes(id));
  const links = during.linkIds.filter((id) => !beforeIds.linkIds.includes(id));
  assert.equal(links.length, 2, 'kfree_skb and tcp_send_reset only');
  assert.equal(progs.length, 2);
  run.stop();
  assert.deepEqual(stillExisting('prog', progs), []);
  assert.deepEqual(stillExisting('link', links), []);
});

test('every kind hooked is five programs, each attached by its own link', () => {
  const progs = held.during.progIds.filter((id) => !held.before.progIds.includes(id));
  const links = held.during.linkIds.filter((id) => !held.before.linkIds.includes(id));
  assert.deepEqual([progs.length, links.length], [5, 5]);
});
