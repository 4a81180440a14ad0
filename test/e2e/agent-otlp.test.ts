// The whole agent against the real kernel, exporting to an OTLP sink built on the official OTLP
// protobuf definitions: counts are checked exactly against the traffic the test generates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

const N = 8; // TCP connections per family
const M = 3; // UDP connects per family
const K = 2; // refused connects per family

/** An agent.yaml with the connections receiver and one exporter (`id`, defined by `block`). */
function agentYaml(id: string, block: string, extra = ''): string {
  return `
receivers:
  connections:
    seed_existing: false
    interval: 300ms     # the kernel's counters read as often as metrics are exported
    logs:
      max_per_second: 0   # exact log counts: other traffic on the host must not use up a cap
processors:
  filter/no-curl:
    exclude:
      - process: [curl]
exporters:
  ${id}:
${block}
service:
  pipelines:
    metrics:
      receivers: [connections]
      ${extra}
      exporters: [${id}]
    logs:
      receivers: [connections]
      ${extra}
      exporters: [${id}]
  telemetry:
    metrics:
      export_interval: 300ms
    resource:
      deployment.environment.name: e2e
`;
}

const transports: Record<string, (s: OtlpSink) => [string, string]> = {
  'OTLP/gRPC': (s) => ['otlp/sink', `    endpoint: http://${s.grpcEndpoint}`],
  'OTLP/HTTP (protobuf)': (s) => ['otlphttp/sink', `    endpoint: ${s.httpEndpoint}\n    encoding: proto`],
};

for (const [name, exporter] of Object.entries(transports)) {
  describe(`the agent exporting over ${name}`, () => {
    let sink: OtlpSink;
    let agent: RunningAgent;
    const servers: Started[] = [];
    const ports: Record<string, { tcp: number; udp: number; closed: number }> = {};
    let holdPort = 0;

    before(async () => {
      sink = await OtlpSink.start();
      const [id, block] = exporter(sink);
      const cfg = parseConfig(agentYaml(id, block), 'e2e.yaml', {});
      agent = await startAgent(cfg);
      for (const [fam, host] of [
        ['v4', '127.0.0.1'],
        ['v6', '::1'],
      ] as const) {
        const srv = await startTraffic(`nwt-otlp-${fam}`, 'tcp-server', [host]);
        servers.push(srv);
        ports[fam] = { tcp: srv.info.port as number, udp: await freePort(host), closed: await freePort(host) };
        const cli = await runTraffic(`nwt-otlpc-${fam}`, 'tcp-clients', [host, ports[fam].tcp, N]);
        assert.equal(cli.info.done, N);
        await runTraffic(`nwt-otlpu-${fam}`, 'udp-connect', [host, ports[fam].udp, M]);
        const ref = await runTraffic(`nwt-otlpr-${fam}`, 'refused', [host, ports[fam].closed, K]);
        assert.equal(ref.info.refused, K);
      }
      // One connection that stays open, between two other processes: open by state, exactly.
      const holdServer = await startTraffic('nwt-otlp-hsrv', 'tcp-server', ['127.0.0.1']);
      servers.push(holdServer);
      holdPort = holdServer.info.port as number;
      servers.push(await startTraffic('nwt-otlp-hold', 'hold', ['127.0.0.1', holdPort]));
      const holding = (direction: string) =>
        sink.sumOf('netwatch.connection.active', {
          'server.port': holdPort,
          'network.connection.state': 'established',
          'netwatch.connection.direction': direction,
        });
      await sink
        .waitFor(() => holding('outbound') === 1 && holding('inbound') === 1, 15_000)
        .catch(() => {
          const seen = sink.latest('netwatch.connection.active').map((p) => `${JSON.stringify(p.attributes)} = ${p.value}`);
          assert.fail(`the held connection to ${holdPort} is not open by the exported metrics:\n${seen.join('\n')}`);
        });
      await sink.waitFor(
        () =>
          (['v4', 'v6'] as const).every(
            (f) =>
              sink.sumOf('netwatch.connection.io', {
                'server.port': ports[f].tcp,
                'netwatch.connection.direction': 'inbound',
                'network.io.direction': 'receive',
              }) ===
              N * 'hello'.length,
          ),
        15_000,
      );
      await agent.flush();
    });
    after(async () => {
      for (const s of servers) await stopChild(s);
      await agent?.stop();
      await sink?.stop();
    });

    for (const [fam, type] of [
      ['v4', 'ipv4'],
      ['v6', 'ipv6'],
    ] as const) {
      test(`counts exactly N outbound and N inbound TCP connections (${type})`, () => {
        const p = ports[fam].tcp;
        assert.equal(
          sink.sumOf('netwatch.connection.opened', {
            'server.port': p,
            'netwatch.connection.direction': 'outbound',
            'network.transport': 'tcp',
            'network.type': type,
          }),
          N,
        );
        assert.equal(
          sink.sumOf('netwatch.connection.opened', {
            'server.port': p,
            'netwatch.connection.direction': 'inbound',
            'network.transport': 'tcp',
            'network.type': type,
          }),
          N,
        );
      });

      test(`counts exactly M UDP connects and K refused connects (${type})`, () => {
        assert.equal(sink.sumOf('netwatch.connection.opened', { 'server.port': ports[fam].udp, 'network.transport': 'udp', 'network.type': type }), M);
        assert.equal(sink.sumOf('netwatch.connection.failed', { 'server.port': ports[fam].closed, 'error.type': 'ECONNREFUSED', 'network.type': type }), K);
      });

      test(`reports bytes, durations and RTTs of the closed connections with the catalogue's units (${type})`, () => {
        const p = ports[fam].tcp;
        const outbound = { 'server.port': p, 'netwatch.connection.direction': 'outbound' };
        assert.equal(sink.sumOf('netwatch.connection.io', { ...outbound, 'network.io.direction': 'transmit' }), N * 'hello'.length);
        assert.equal(sink.sumOf('netwatch.connection.io', { ...outbound, 'network.io.direction': 'receive' }), N * 'ok'.length);
        const duration = sink.histogram('netwatch.connection.duration', { 'server.port': p, 'netwatch.connection.direction': 'outbound' });
        assert.equal(duration?.count, N);
        assert.equal(duration?.unit, 's');
        const rtt = sink.histogram('netwatch.connection.rtt', { 'server.port': p, 'netwatch.connection.direction': 'inbound' });
        assert.equal(rtt?.count, N);
        assert.equal(rtt?.unit, 's');
      });
    }

    test('exports state transitions and currently-open connections by state', () => {
      assert.ok(
        sink.sumOf('netwatch.connection.state_transitions', { 'netwatch.connection.previous_state': 'syn_sent', 'network.connection.state': 'established' }) >=
          2 * N,
      );
      const active = sink.latest('netwatch.connection.active', { 'server.port': holdPort });
      assert.deepEqual(
        active.map((p) => [p.attributes['netwatch.connection.direction'], p.attributes['network.connection.state'], p.value, p.unit]).sort(),
        [
          ['inbound', 'established', 1, '{connection}'],
          ['outbound', 'established', 1, '{connection}'],
        ],
        'the held connection, once from each end; its listener is not a connection',
      );
      // Every test connection has closed again: none of them is still counted as open.
      for (const f of ['v4', 'v6'] as const) {
        assert.equal(sink.sumOf('netwatch.connection.active', { 'server.port': ports[f].tcp, 'network.connection.state': 'established' }), 0);
      }
    });

    test('sends one log record per connection event with eventName, its own timestamp and the attributes', () => {
      const p = ports.v4.tcp;
      const opens = sink.logs({ eventName: 'netwatch.connection.open' }).filter((r) => r.attributes['server.port'] === p);
      assert.equal(opens.length, N);
      for (const r of opens) {
        assert.equal(r.attributes['event.name'], undefined, 'eventName is a field, not an attribute');
        assert.equal(r.attributes['network.transport'], 'tcp');
        assert.equal(r.attributes['process.executable.name'], 'node');
        assert.ok(Math.abs(r.timeUnixNano / 1e6 - Date.now()) < 60_000, 'the event time is now-ish wall clock');
      }
      const accepts = sink.logs({ eventName: 'netwatch.connection.accept' }).filter((r) => r.attributes['server.port'] === p);
      assert.equal(accepts.length, N);
      const closes = sink.logs({ eventName: 'netwatch.connection.close' }).filter((r) => r.attributes['server.port'] === p);
      assert.equal(closes.length, 2 * N);
      const failures = sink.logs({ eventName: 'netwatch.connection.failure' }).filter((r) => r.attributes['server.port'] === ports.v4.closed);
      assert.equal(failures.length, K);
      assert.equal(failures[0].attributes['error.type'], 'ECONNREFUSED');
    });

    test('sets the resource attributes', () => {
      const r = sink.resource();
      assert.equal(r['service.name'], 'netwatch');
      assert.ok(typeof r['service.version'] === 'string' && r['service.version'] !== '');
      assert.ok(typeof r['host.name'] === 'string' && r['host.name'] !== '');
      assert.equal(r['deployment.environment.name'], 'e2e');
    });

    test('reports its own events read and lost', () => {
      assert.ok(sink.sumOf('netwatch.agent.events.read', { 'netwatch.probe': 'connections' }) > 0);
      assert.equal(sink.sumOf('netwatch.agent.events.lost', { 'netwatch.probe': 'connections' }), 0);
    });
  });
}

describe('a filter that excludes one process', () => {
  test("drops that process's traffic and keeps the rest", async () => {
    const sink = await OtlpSink.start();
    const cfg = parseConfig(agentYaml('otlp/sink', `    endpoint: http://${sink.grpcEndpoint}`, 'processors: [filter/no-curl]'), 'e2e.yaml', {});
    const agent = await startAgent(cfg);
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await promisify(execFile)('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
      await promisify(execFile)('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
      await runTraffic('nwt-kept', 'tcp-clients', ['127.0.0.1', port, 3]);
      await sink.waitFor(
        () =>
          sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'process.executable.name': 'node', 'netwatch.connection.direction': 'outbound' }) ===
          3,
        10_000,
      );
      await agent.flush();
      assert.equal(sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'process.executable.name': 'curl' }), 0);
      assert.equal(sink.logs().filter((r) => r.attributes['process.executable.name'] === 'curl').length, 0);
      assert.equal(
        sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'process.executable.name': 'node', 'netwatch.connection.direction': 'outbound' }),
        3,
      );
    } finally {
      server.close();
      await agent.stop();
      await sink.stop();
    }
  });
});

describe("the agent's own BPF cost", () => {
  test('is reported per program while kernel.bpf_stats_enabled is on, and not at all while it is off', async () => {
    const SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';
    const was = readFileSync(SYSCTL, 'utf8').trim();
    const sink = await OtlpSink.start();
    const server = await startTraffic('nwt-cost-srv', 'tcp-server', ['127.0.0.1']);
    const port = server.info.port as number;
    let agent: RunningAgent | undefined;
    try {
      writeFileSync(SYSCTL, '0');
      agent = await startAgent(parseConfig(agentYaml('otlp/sink', `    endpoint: http://${sink.grpcEndpoint}`), 'e2e.yaml', {}));
      await runTraffic('nwt-cost-cli', 'tcp-clients', ['127.0.0.1', port, N]);
      const opened = () => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' });
      await sink.waitFor(() => opened() === N, 15_000);
      assert.deepEqual(sink.latest('netwatch.agent.bpf.runs'), [], 'statistics off: no cost reported');
      assert.deepEqual(sink.latest('netwatch.agent.bpf.run_time'), []);

      writeFileSync(SYSCTL, '1');
      await runTraffic('nwt-cost-cli', 'tcp-clients', ['127.0.0.1', port, N]);
      const runs = (program: string) => sink.sumOf('netwatch.agent.bpf.runs', { 'netwatch.probe': 'connections', 'netwatch.bpf.program': program });
      // At least the test's own connects since the statistics went on (other processes may connect too).
      await sink.waitFor(() => runs('conn_connect4') >= N && runs('conn_accept4_exit') >= N, 15_000);
      const programs = new Set(sink.latest('netwatch.agent.bpf.runs', { 'netwatch.probe': 'connections' }).map((p) => p.attributes['netwatch.bpf.program']));
      assert.deepEqual(
        [...programs].sort(),
        ['conn_accept4_exit', 'conn_accept_exit', 'conn_cgroup_mkdir', 'conn_connect4', 'conn_connect6', 'conn_iter', 'conn_state'],
        'one series per program of the conn probe',
      );
      assert.ok(runs('conn_state') >= 4 * N, `each connection changes state at least 4 times on each side: ${runs('conn_state')}`);
      const seconds = sink.sumOf('netwatch.agent.bpf.run_time', { 'netwatch.probe': 'connections', 'netwatch.bpf.program': 'conn_state' });
      assert.ok(seconds > 0 && seconds < 1, `conn_state ran for ${seconds} s`);
    } finally {
      writeFileSync(SYSCTL, was);
      await stopChild(server);
      await agent?.stop();
      await sink.stop();
    }
  });
});

describe("the agent's own connections", () => {
  /** N connections from this process (the agent's) to a server in another process, each closed at once. */
  async function connectFromSelf(port: number): Promise<void> {
    for (let i = 0; i < N; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.end(() => resolve()));
        s.on('error', reject);
      });
    }
  }

  for (const includeSelf of [false, true]) {
    test(`are ${includeSelf ? 'reported with include_self: true' : 'left out by default, found by the agent’s pid'}; the other end always is`, async () => {
      const sink = await OtlpSink.start();
      const server = await startTraffic('nwt-self-srv', 'tcp-server', ['127.0.0.1']);
      const port = server.info.port as number;
      const yaml = agentYaml('otlp/sink', `    endpoint: http://${sink.grpcEndpoint}`).replace(
        '    seed_existing: false\n',
        `    seed_existing: false\n    include_self: ${includeSelf}\n`,
      );
      const agent = await startAgent(parseConfig(yaml, 'e2e.yaml', {}));
      // And a server of the agent's own, which a client in another process connects to.
      const own = net.createServer((c) => {
        c.on('data', () => {});
        c.on('end', () => c.end('ok'));
        c.on('error', () => {});
      });
      await new Promise<void>((r) => own.listen(0, '127.0.0.1', () => r()));
      const ownPort = (own.address() as net.AddressInfo).port;
      try {
        await connectFromSelf(port);
        await runTraffic('nwt-self-cli', 'tcp-clients', ['127.0.0.1', ownPort, N]);
        const opened = (p: number, direction: string) =>
          sink.sumOf('netwatch.connection.opened', { 'server.port': p, 'netwatch.connection.direction': direction });
        const io = (p: number, direction: string) => sink.sumOf('netwatch.connection.io', { 'server.port': p, 'netwatch.connection.direction': direction });
        // The other ends are other processes: the server's N accepts and the client's N connects count either way.
        await sink.waitFor(() => opened(port, 'inbound') === N && opened(ownPort, 'outbound') === N, 15_000);
        await agent.flush();
        assert.equal(opened(port, 'outbound'), includeSelf ? N : 0, "the agent's connects");
        assert.equal(opened(ownPort, 'inbound'), includeSelf ? N : 0, "the agent's accepts");
        assert.equal(io(ownPort, 'inbound'), includeSelf ? N * ('hello'.length + 'ok'.length) : 0, "the bytes of the agent's accepted connections");
        assert.equal(io(ownPort, 'outbound'), N * ('hello'.length + 'ok'.length));
        const records = sink
          .logs()
          .filter(
            (r) =>
              (r.attributes['server.port'] === port && r.attributes['netwatch.connection.direction'] === 'outbound') ||
              (r.attributes['server.port'] === ownPort && r.attributes['netwatch.connection.direction'] === 'inbound'),
          );
        assert.equal(records.length > 0, includeSelf, `log records of the agent's own connections: ${records.length}`);
      } finally {
        own.close();
        await stopChild(server);
        await agent.stop();
        await sink.stop();
      }
    });
  }
});

describe('bytes of a connection that stays open', () => {
  test('are reported at every interval while it is open, and its close adds only the remainder', async () => {
    const sink = await OtlpSink.start();
    // Both ends live in this process, the agent's: include_self lets the agent see them.
    const yaml = agentYaml('otlp/sink', `    endpoint: http://${sink.grpcEndpoint}`).replace(
      '    seed_existing: false\n',
      '    seed_existing: false\n    include_self: true\n',
    );
    const agent = await startAgent(parseConfig(yaml, 'e2e.yaml', {}));
    const received: Buffer[] = [];
    let accepted: net.Socket | undefined;
    const server = net.createServer((s) => {
      accepted = s;
      s.on('data', (d) => received.push(d));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const io = (direction: string, ioDirection: string) =>
      sink.sumOf('netwatch.connection.io', { 'server.port': port, 'netwatch.connection.direction': direction, 'network.io.direction': ioDirection });
    const closes = () => sink.logs({ eventName: 'netwatch.connection.close' }).filter((r) => r.attributes['server.port'] === port).length;
    try {
      const client = await new Promise<net.Socket>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => resolve(c));
        c.on('error', reject);
      });
      let sent = 0;
      for (const n of [1000, 2345, 70_000]) {
        await new Promise<void>((r) => client.write(Buffer.alloc(n, 0x61), () => r()));
        sent += n;
        // Each interval reports the bytes since the last one: the running total shows while the connection is open.
        await sink
          .waitFor(() => io('outbound', 'transmit') === sent && io('inbound', 'receive') === sent, 10_000)
          .catch(() => {
            assert.fail(
              `after ${sent} bytes sent on an open connection: outbound transmit ${io('outbound', 'transmit')}, inbound receive ${io('inbound', 'receive')}`,
            );
          });
        assert.equal(closes(), 0, 'the connection is still open');
      }
      assert.equal(Buffer.concat(received).length, sent);
      await new Promise<void>((r) => client.end(() => r()));
      accepted?.end();
      await sink.waitFor(() => closes() === 2, 10_000);
      await agent.flush();
      assert.equal(io('outbound', 'transmit'), sent, 'the close added nothing already reported');
      assert.equal(io('inbound', 'receive'), sent);
    } finally {
      server.close();
      await agent.stop();
      await sink.stop();
    }
  });
});
