// The conn probe against the real kernel with real traffic. These tests never skip: a machine
// without BPF fails them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ConnEvent } from '../../src/receivers/connections/event';
import { heldBpfObjects, stillExisting } from '../helpers/bpf-objects';
import { lifetimes, runConnProbe, total, type ProbeRun } from '../helpers/conn-probe';
import { basename } from 'node:path';
import { createNetnsPair, type NetnsPair } from '../helpers/netns';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

const N = 20;
const ECONNREFUSED = 111;
/** The traffic helpers are node scripts that only retitle themselves: the executable is node's. */
const NODE = basename(process.execPath);

function ofPid(events: ConnEvent[], pid: number, kind: ConnEvent['kind']): ConnEvent[] {
  return events.filter((e) => e.pid === pid && e.kind === kind);
}

for (const [family, host] of [
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
] as const) {
  describe(`${N} TCP connections over ${host}`, () => {
    let run: ProbeRun;
    let server: Started;
    let client: Started;
    let port: number;
    const srvTitle = `nwt-srv-${family}`,
      cliTitle = `nwt-cli-${family}`;

    let names: NonNullable<ReturnType<ProbeRun['probe']['kernelNames']>>;
    before(async () => {
      run = runConnProbe();
      names = run.probe.kernelNames()!;
      server = await startTraffic(srvTitle, 'tcp-server', [host]);
      port = server.info.port as number;
      client = await runTraffic(cliTitle, 'tcp-clients', [host, port, N]);
      await run.until((ev) => ofPid(ev, client.pid, 'close').length >= N && ofPid(ev, server.pid, 'close').length >= N, `${N} closes on both ends`);
    });
    after(async () => {
      await stopChild(server);
      run?.stop();
    });

    test('gives exactly N outbound connect events, attributed to the client process', () => {
      const connects = run.events.filter((e) => e.kind === 'connect' && e.remotePort === port && e.transport === 'tcp');
      assert.equal(connects.length, N);
      for (const e of connects) {
        assert.equal(e.pid, client.pid);
        assert.equal(e.exe, NODE);
        assert.equal(e.direction, 'outbound');
        assert.equal(e.networkType, family === 'IPv4' ? 'ipv4' : 'ipv6');
        assert.equal(e.remoteAddress, host);
      }
    });

    test('gives exactly N inbound accept events, attributed to the accepting server process', () => {
      const accepts = run.events.filter((e) => e.kind === 'accept' && e.localPort === port);
      assert.equal(accepts.length, N);
      for (const e of accepts) {
        assert.equal(e.pid, server.pid);
        assert.equal(e.exe, NODE);
        assert.equal(e.direction, 'inbound');
        assert.equal(e.localAddress, host);
        assert.equal(e.remoteAddress, host);
      }
    });

    test('the kernel counted exactly N opened each way, their bytes, durations and transitions, named by executable', () => {
      run.collect();
      const out = (r: { direction: string; serverPort: number; kind: string }) => r.kind === 'conn' && r.direction === 'outbound' && r.serverPort === port;
      const inb = (r: { direction: string; serverPort: number; kind: string }) => r.kind === 'conn' && r.direction === 'inbound' && r.serverPort === port;
      assert.equal(total(run.rows, 'opened', out), N);
      assert.equal(total(run.rows, 'opened', inb), N);
      assert.equal(total(run.rows, 'bytesSent', out), N * 'hello'.length);
      assert.equal(total(run.rows, 'bytesReceived', out), N * 'ok'.length);
      assert.equal(total(run.rows, 'bytesSent', inb), N * 'ok'.length);
      assert.equal(total(run.rows, 'bytesReceived', inb), N * 'hello'.length);
      assert.equal(total(run.rows, 'durationCount', out), N);
      assert.equal(total(run.rows, 'durationCount', inb), N);
      assert.equal(total(run.rows, 'rttCount', out), N, 'one RTT sample per connection: each opened and closed within the interval');
      for (const r of run.rows.filter((r) => out(r) || inb(r))) {
        assert.equal(names.exe(r.exeIno, r.exeDev), NODE);
        assert.equal(r.networkType, family === 'IPv4' ? 'ipv4' : 'ipv6');
        assert.equal(r.tgid, 0, 'process.pid is not a key unless included');
      }
      const t = (dir: string, from: string, to: string) =>
        run.transitions.filter((x) => x.direction === dir && x.oldState === from && x.newState === to).reduce((a, x) => a + x.count, 0);
      assert.ok(t('outbound', 'syn_sent', 'established') >= N, 'transitions are counted (other sockets of the host may add to them)');
      assert.ok(t('inbound', 'close_wait', 'last_ack') >= N);
    });

    test('follows every client socket through the full active-open/active-close state sequence', () => {
      const socks = new Set(run.events.filter((e) => e.kind === 'connect' && e.remotePort === port).map((e) => e.sock));
      const mine = run.events.filter((e) => (e.kind === 'state' || e.kind === 'close') && e.remotePort === port);
      const lives = [...socks].flatMap((s) => lifetimes(mine, s));
      assert.equal(lives.length, N);
      for (const life of lives) {
        assert.deepEqual(
          life.map((e) => e.newState),
          ['syn_sent', 'established', 'fin_wait_1', 'fin_wait_2', 'closed'],
        );
        for (const e of life) assert.equal(e.pid, client.pid, `client state ${e.newState} attributed to ${e.pid}`);
        const close = life[life.length - 1];
        assert.equal(close.bytesSent, 'hello'.length);
        assert.equal(close.bytesReceived, 'ok'.length);
        assert.equal(close.error, 0);
        assert.ok(close.durationNs > 0);
      }
    });

    test('follows every server socket through the passive-open/passive-close sequence, never blaming the client', () => {
      const socks = new Set(run.events.filter((e) => e.kind === 'accept' && e.localPort === port).map((e) => e.sock));
      const isListener = (e: ConnEvent) => e.newState === 'listen' || (e.oldState === 'listen' && e.newState === 'closed');
      const mine = run.events.filter((e) => (e.kind === 'state' || e.kind === 'close') && e.localPort === port && !isListener(e));
      const lives = [...socks].flatMap((s) => lifetimes(mine, s));
      assert.equal(lives.length, N);
      for (const life of lives) {
        assert.deepEqual(
          life.map((e) => e.newState),
          ['syn_received', 'established', 'close_wait', 'last_ack', 'closed'],
        );
        // Before accept() the owner is not yet known (softirq context): pid 0, never the client's pid.
        for (const e of life) assert.notEqual(e.pid, client.pid);
        const close = life[life.length - 1];
        assert.equal(close.pid, server.pid);
        assert.equal(close.exe, NODE);
        assert.equal(close.bytesReceived, 'hello'.length);
        assert.equal(close.bytesSent, 'ok'.length);
      }
    });
  });

  describe(`UDP connect and refused TCP connect over ${host}`, () => {
    test('counts every UDP connect() exactly', async () => {
      const run = runConnProbe();
      try {
        const port = await freePort(host);
        const udp = await runTraffic('nwt-udp', 'udp-connect', [host, port, 7]);
        await run.until((ev) => ofPid(ev, udp.pid, 'connect').length >= 7, '7 UDP connects');
        run.collect();
        assert.equal(
          total(run.rows, 'opened', (r) => r.transport === 'udp' && r.serverPort === port && r.direction === 'outbound'),
          7,
        );
        const connects = ofPid(run.events, udp.pid, 'connect');
        assert.equal(connects.length, 7);
        for (const e of connects) {
          assert.equal(e.transport, 'udp');
          assert.equal(e.remotePort, port);
          assert.equal(e.remoteAddress, host);
          assert.equal(e.exe, NODE);
        }
      } finally {
        run.stop();
      }
    });

    test('reports a connect to a closed port as a close with ECONNREFUSED from syn_sent', async () => {
      const run = runConnProbe();
      try {
        const port = await freePort(host);
        const k = 5;
        const ref = await runTraffic('nwt-refused', 'refused', [host, port, k]);
        assert.equal(ref.info.refused, k);
        await run.until((ev) => ofPid(ev, ref.pid, 'close').length >= k, `${k} refused closes`);
        assert.equal(ofPid(run.events, ref.pid, 'connect').length, k);
        const closes = ofPid(run.events, ref.pid, 'close');
        assert.equal(closes.length, k);
        for (const e of closes) {
          assert.equal(e.error, ECONNREFUSED);
          assert.equal(e.oldState, 'syn_sent');
          assert.equal(e.remotePort, port);
        }
        run.collect();
        assert.equal(
          total(run.rows, 'failed', (r) => r.kind === 'failed' && r.serverPort === port && r.error === ECONNREFUSED),
          k,
        );
        assert.equal(
          total(run.rows, 'opened', (r) => r.kind === 'conn' && r.serverPort === port),
          k,
        );
        assert.equal(
          total(run.rows, 'durationCount', (r) => r.serverPort === port),
          0,
          'a connection that never worked has no lifetime',
        );
      } finally {
        run.stop();
      }
    });
  });
}

describe('traffic between two network namespaces joined by a veth pair', () => {
  let pair: NetnsPair;
  let run: ProbeRun;
  let server: Started | undefined;
  before(() => {
    pair = createNetnsPair('nwtc', 211);
    run = runConnProbe();
  });
  after(async () => {
    await stopChild(server);
    run?.stop();
    pair?.remove();
  });

  for (const v of ['4', '6'] as const) {
    test(`carries each end's network namespace (IPv${v})`, async () => {
      const srvAddr = v === '4' ? pair.addrA4 : pair.addrA6;
      server = await startTraffic(`nwt-nsrv${v}`, 'tcp-server', [srvAddr], { netns: pair.a });
      const port = server.info.port as number;
      const cli = await runTraffic(`nwt-ncli${v}`, 'tcp-clients', [srvAddr, port, 3], { netns: pair.b });
      await run.until((ev) => ofPid(ev, cli.pid, 'close').length >= 3 && ofPid(ev, server!.pid, 'close').length >= 3, 'closes in both namespaces');
      const connects = ofPid(run.events, cli.pid, 'connect');
      const accepts = ofPid(run.events, server.pid, 'accept');
      assert.equal(connects.length, 3);
      assert.equal(accepts.length, 3);
      for (const e of connects) assert.equal(e.netns, pair.inoB);
      for (const e of ofPid(run.events, cli.pid, 'close')) assert.equal(e.netns, pair.inoB);
      for (const e of accepts) {
        assert.equal(e.netns, pair.inoA);
        assert.equal(e.localAddress, srvAddr);
      }
      await stopChild(server);
      server = undefined;
    });
  }
});

describe('connections opened before the probe starts', () => {
  test('are reported as existing, attributed, and their later close carries the same key', async () => {
    const server = await startTraffic('nwt-presrv', 'tcp-server', ['127.0.0.1']);
    const port = server.info.port as number;
    const holder = await startTraffic('nwt-hold', 'hold', ['127.0.0.1', port]);
    let run: ProbeRun | undefined;
    try {
      run = runConnProbe({ seedExisting: true });
      const existing = run.events.filter((e) => e.kind === 'existing' && e.transport === 'tcp');
      const mine = existing.filter((e) => e.pid === holder.pid && e.remotePort === port);
      assert.equal(mine.length, 1, 'the held client connection is seeded once');
      assert.equal(mine[0].direction, 'outbound');
      assert.equal(mine[0].newState, 'established');
      assert.equal(mine[0].exe, '', 'seeded from /proc: enrichment names it');
      const theirs = existing.filter((e) => e.pid === server.pid && e.localPort === port && e.newState === 'established');
      assert.equal(theirs.length, 1, 'the server end is seeded once');
      assert.equal(theirs[0].direction, 'inbound');
      // The first interval counts it open once from each end (the start-up pass only took its byte counters).
      run.collect();
      const open = run.rows.filter((r) => r.kind === 'active' && r.serverPort === port && r.state === 'established');
      assert.deepEqual(open.map((r) => [r.direction, r.active]).sort(), [
        ['inbound', 1],
        ['outbound', 1],
      ]);
      await stopChild(holder);
      await run.until((ev) => ev.some((e) => e.kind === 'close' && e.sock === mine[0].sock), 'the seeded connection to close');
      const close = run.events.find((e) => e.kind === 'close' && e.sock === mine[0].sock)!;
      assert.equal(close.pid, holder.pid);
      assert.equal(close.exe, NODE, 'the agent stored the executable it found in /proc in the kernel table');
    } finally {
      await stopChild(holder);
      await stopChild(server);
      run?.stop();
    }
  });
});

describe('a burst that overflows a deliberately tiny ring', () => {
  test('counts every record it could not deliver (received + lost = generated), and the kernel counters miss none', async () => {
    // Only the burst process is reported, the reader never wakes early and drains once a second,
    // so a 4 KiB ring (about 30 records) must overflow.
    const generated = 3000;
    const gate = await startTraffic('nwt-gate', 'tcp-server', ['127.0.0.1']);
    const port = await freePort('127.0.0.1');
    await stopChild(gate);
    // Start the burst process paused on its own pid: the filter needs the pid before it runs.
    const { spawn } = await import('node:child_process');
    const { TRAFFIC } = await import('../helpers/processes');
    const child = spawn('sh', ['-c', `read _ ; exec "${process.execPath}" "${TRAFFIC}" nwt-burst udp-connect 127.0.0.1 ${port} ${generated}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const run = runConnProbe({ ringBytes: 4096, pollIntervalMs: 1000, wakeupBytes: 1 << 30, filterPid: child.pid! });
    try {
      child.stdin.write('go\n');
      await new Promise<void>((r) => child.once('exit', () => r()));
      await run.until((ev) => ev.length + run.probe.stats().lost >= generated, 'all records received or counted lost', 15_000);
      const received = run.events.filter((e) => e.kind === 'connect' && e.pid === child.pid).length;
      const { lost } = run.probe.stats();
      assert.ok(lost > 0, 'the tiny ring overflowed');
      assert.equal(received + lost, generated);
      assert.equal(run.events.length, received, 'nothing but the burst was reported');
      run.collect();
      assert.equal(
        total(run.rows, 'opened', (r) => r.kind === 'conn' && r.serverPort === port),
        generated,
        'every connect counted in the kernel',
      );
    } finally {
      run.stop();
    }
  });
});

describe('after stop', () => {
  test('no program, link or cgroup attachment of the probe remains', async () => {
    const run = runConnProbe();
    const held = heldBpfObjects(process.pid);
    assert.equal(held.linkIds.length, 7, 'four tracepoint links, two cgroup links and the socket iterator while running');
    const cgroupLinks = execFileSync('bpftool', ['cgroup', 'tree'], { encoding: 'utf8' });
    assert.match(cgroupLinks, /conn_connect4/);
    run.stop();
    assert.deepEqual(stillExisting('link', held.linkIds), []);
    assert.deepEqual(stillExisting('prog', held.progIds), []);
    assert.deepEqual(heldBpfObjects(process.pid), { progIds: [], linkIds: [] });
  });
});
