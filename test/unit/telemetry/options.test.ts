import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { type LogLevel, setLogSink } from '../../../src/log';
import { ATTR, EVENT, METRIC } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, newSock, otlpGrpc, outboundLifecycle, receiver } from './fixtures';
import { withKernelCounts } from '../../helpers/kernel-counts';

const lines: { line: string; level: LogLevel }[] = [];
setLogSink((line, level) => lines.push({ line, level }));
afterEach(() => {
  lines.length = 0;
});

async function run(
  cfgOpts: Parameters<typeof agentConfig>[0] extends infer O ? Omit<O & object, 'exporters'> : never,
  feed: (t: ReturnType<typeof createTelemetry>) => void,
): Promise<OtlpSink> {
  const s = await OtlpSink.start();
  const t = createTelemetry(agentConfig({ ...cfgOpts, exporters: [otlpGrpc(s.grpcEndpoint)] }));
  feed(t);
  await t.shutdown();
  await s.stop();
  return s;
}

test('opt-in attributes are added to metrics only when the receiver includes them', async () => {
  const rc = receiver({ include: { process_pid: true, peer_address: true, client_port: false } });
  const s = await run({ receiver: rc, signals: ['metrics'] }, (t) => {
    for (const ev of withKernelCounts(outboundLifecycle({ localPort: 41000 }))) t.sinkFor('metrics').consume(ev);
  });
  const [p] = s.latest(METRIC.CONNECTION_OPENED);
  assert.equal(p.attributes[ATTR.PROCESS_PID], 4242);
  assert.equal(p.attributes[ATTR.NETWORK_PEER_ADDRESS], '10.0.0.2');
  assert.ok(!(ATTR.CLIENT_PORT in p.attributes));
  assert.equal(s.latest(METRIC.CONNECTION_IO)[0].attributes[ATTR.PROCESS_PID], 4242);
});

test('a metric the receiver disables is not exported at all, and the others still are', async () => {
  const rc = receiver({ metrics: { [METRIC.CONNECTION_IO]: { enabled: false } } });
  const s = await run({ receiver: rc, signals: ['metrics'] }, (t) => {
    for (const ev of withKernelCounts(outboundLifecycle())) t.sinkFor('metrics').consume(ev);
  });
  assert.ok(!s.metricNames().includes(METRIC.CONNECTION_IO));
  assert.equal(s.sumOf(METRIC.CONNECTION_OPENED), 1);
});

test('an event class switched on in the receiver is emitted: state changes', async () => {
  const rc = receiver({ events: { [EVENT.CONNECTION_STATE_CHANGE]: { enabled: true }, [EVENT.CONNECTION_OPEN]: { enabled: false } } });
  const s = await run({ receiver: rc, signals: ['logs'] }, (t) => {
    for (const ev of outboundLifecycle()) t.sinkFor('logs').consume(ev);
  });
  assert.equal(s.logs({ eventName: EVENT.CONNECTION_STATE_CHANGE }).length, 2);
  assert.equal(s.logs({ eventName: EVENT.CONNECTION_OPEN }).length, 0);
});

test('the cardinality limit is reported once, counted, and folded into otel.metric.overflow', async () => {
  const LIMIT = 5;
  const PROCESSES = 20;
  const s = await run({ cardinalityLimit: LIMIT, signals: ['metrics'] }, (t) => {
    const connects = Array.from({ length: PROCESSES }, (_, i) =>
      connEvent({ exe: `app${i}`, process: { pid: i, executableName: `app${i}`, commandLine: '' } }),
    );
    for (const ev of withKernelCounts(connects)) t.sinkFor('metrics').consume(ev);
  });
  const warnings = lines.filter((l) => l.level === 'warn' && l.line.includes('cardinality limit'));
  assert.equal(warnings.length, 1, lines.map((l) => l.line).join('\n'));
  assert.match(warnings[0].line, /netwatch\.connection\.opened/);
  assert.equal(s.sumOf(METRIC.CONNECTION_OPENED), PROCESSES, 'no measurement is lost');
  assert.equal(s.sumOf(METRIC.CONNECTION_OPENED, { 'otel.metric.overflow': true }), PROCESSES - (LIMIT - 1));
  assert.equal(s.latest(METRIC.CONNECTION_OPENED).length, LIMIT);
  assert.equal(s.sumOf(METRIC.AGENT_CARDINALITY_LIMIT_HITS, { [ATTR.METRIC_NAME]: METRIC.CONNECTION_OPENED }), PROCESSES - (LIMIT - 1));
});

test('log records past the per-second cap are dropped with one warning', async () => {
  const rc = receiver({ logs: { sampling_ratio: 1, max_per_second: 3 } });
  const s = await run({ receiver: rc, signals: ['logs'] }, (t) => {
    for (let i = 0; i < 10; i++) t.sinkFor('logs').consume(connEvent());
  });
  // Ten events inside one wall-clock second, unless the test straddles a boundary.
  const n = s.logs({ eventName: EVENT.CONNECTION_OPEN }).length;
  assert.ok(n === 3 || n === 6, `got ${n}`);
  assert.equal(lines.filter((l) => l.level === 'warn' && l.line.includes('max_per_second')).length, 1);
});

test('a sampling ratio of zero-ish keeps almost nothing, a ratio of one keeps everything', async () => {
  const sampled = await run({ receiver: receiver({ logs: { sampling_ratio: 0.000001, max_per_second: 0 } }), signals: ['logs'] }, (t) => {
    for (let i = 0; i < 50; i++) t.sinkFor('logs').consume(connEvent());
  });
  assert.equal(sampled.logs().length, 0);
  const all = await run({ signals: ['logs'] }, (t) => {
    for (let i = 0; i < 50; i++) t.sinkFor('logs').consume(connEvent());
  });
  assert.equal(all.logs().length, 50);
});

test("self-metrics report each probe's reads, losses and decode errors from the stats provider", async () => {
  const s = await run({ signals: ['metrics'] }, (t) => {
    t.setStatsProvider(() => ({ probes: { conn: { read: 10, lost: 2, decodeErrors: 1 } } }));
  });
  assert.equal(s.sumOf(METRIC.AGENT_EVENTS_READ, { [ATTR.PROBE]: 'conn' }), 10);
  assert.equal(s.sumOf(METRIC.AGENT_EVENTS_LOST, { [ATTR.PROBE]: 'conn' }), 2);
  assert.equal(s.sumOf(METRIC.AGENT_EVENTS_DECODE_ERRORS, { [ATTR.PROBE]: 'conn' }), 1);
});

test("self-metrics report each BPF program's run time and runs only while the kernel keeps statistics", async () => {
  const programs = [
    { name: 'conn_state', runTimeNs: 1_500_000_000, runs: 3000 },
    { name: 'conn_connect4', runTimeNs: 250_000, runs: 5 },
  ];
  const on = await run({ signals: ['metrics'] }, (t) => {
    t.setStatsProvider(() => ({ probes: { conn: { read: 1, lost: 0, decodeErrors: 0, programs }, sni: { read: 0, lost: 0, decodeErrors: 0, programs: [] } } }));
  });
  const prog = (name: string) => ({ [ATTR.PROBE]: 'conn', [ATTR.BPF_PROGRAM]: name });
  assert.equal(on.sumOf(METRIC.AGENT_BPF_RUN_TIME, prog('conn_state')), 1.5);
  assert.equal(on.sumOf(METRIC.AGENT_BPF_RUNS, prog('conn_state')), 3000);
  assert.equal(on.sumOf(METRIC.AGENT_BPF_RUN_TIME, prog('conn_connect4')), 0.00025);
  assert.equal(on.sumOf(METRIC.AGENT_BPF_RUNS, prog('conn_connect4')), 5);
  assert.equal(on.latest(METRIC.AGENT_BPF_RUNS).length, 2, 'one series per program, none for a probe without programs');
  assert.equal(on.latest(METRIC.AGENT_BPF_RUN_TIME)[0]?.unit, 's');
  // Statistics off: the probes report no programs, and neither metric is exported.
  const off = await run({ signals: ['metrics'] }, (t) => {
    t.setStatsProvider(() => ({ probes: { conn: { read: 1, lost: 0, decodeErrors: 0 } } }));
  });
  assert.equal(off.latest(METRIC.AGENT_EVENTS_READ).length, 1);
  assert.equal(off.latest(METRIC.AGENT_BPF_RUN_TIME).length, 0);
  assert.equal(off.latest(METRIC.AGENT_BPF_RUNS).length, 0);
});

test('the exporter in use is reported under the conventions otel.sdk.* names from the first export on, with no failure', async () => {
  const s = await run({ signals: ['metrics'] }, () => {});
  const exported = s.latest(METRIC.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED);
  assert.deepEqual(
    exported.map((p) => p.attributes),
    [{ [ATTR.OTEL_COMPONENT_NAME]: 'otlp', [ATTR.OTEL_COMPONENT_TYPE]: 'otlp_grpc_metric_exporter' }],
  );
  assert.equal(exported[0].unit, '{data_point}');
});

test('UDP connects count as opened but never as open sockets', async () => {
  const s = await run({ signals: ['metrics'] }, (t) => {
    for (const ev of withKernelCounts([connEvent({ transport: 'udp', remotePort: 53 })])) t.sinkFor('metrics').consume(ev);
  });
  assert.equal(s.sumOf(METRIC.CONNECTION_OPENED, { [ATTR.NETWORK_TRANSPORT]: 'udp', [ATTR.SERVER_PORT]: 53 }), 1);
  assert.equal(s.sumOf(METRIC.CONNECTION_ACTIVE), 0);
});

test('a listening socket closing is not logged as a connection close', async () => {
  const sock = newSock();
  const s = await run({ signals: ['logs'] }, (t) => {
    t.sinkFor('logs').consume(connEvent({ kind: 'state', sock, oldState: 'closed', newState: 'listen', direction: 'unknown' }));
    t.sinkFor('logs').consume(connEvent({ kind: 'close', sock, oldState: 'listen', newState: 'closed', direction: 'unknown' }));
    for (const ev of outboundLifecycle()) t.sinkFor('logs').consume(ev);
  });
  assert.equal(s.logs({ eventName: EVENT.CONNECTION_CLOSE }).length, 1);
});
