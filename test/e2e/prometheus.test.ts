// A real Prometheus server scrapes the agent's prometheus exporter, which runs beside an OTLP
// exporter in the same pipeline; the series Prometheus stores, read back through its query API,
// equal the traffic the test made, and equal what the OTLP sink received.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';
import { PrometheusServer, type PromSample } from '../helpers/prometheus';

const N = 5; // TCP connections
const K = 3; // refused connects

let agent: RunningAgent;
let sink: OtlpSink;
let prom: PrometheusServer;
let server: Started;
let metricsPort: number;
let closedPort: number;

async function until(promql: string, ok: (s: PromSample[]) => boolean, ms = 30_000): Promise<PromSample[]> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await prom.query(promql);
    if (ok(s)) return s;
    if (Date.now() > end) throw new Error(`${promql}: still ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const total = (s: PromSample[]) => s.reduce((a, x) => a + x.value, 0);

before(async () => {
  metricsPort = await freePort('127.0.0.1');
  closedPort = await freePort('127.0.0.1');
  sink = await OtlpSink.start();
  agent = await startAgent(
    parseConfig(
      `
receivers:
  connections:
    seed_existing: false
exporters:
  prometheus:
    host: 127.0.0.1
    port: ${metricsPort}
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [prometheus, otlp]
  telemetry:
    metrics:
      export_interval: 300ms
`,
      'prometheus-e2e.yaml',
      {},
    ),
  );
  prom = await PrometheusServer.start([`127.0.0.1:${metricsPort}`], { intervalMs: 500 });
  server = await startTraffic('nwt-prom-srv', 'tcp-server', ['127.0.0.1']);
  const cli = await runTraffic('nwt-prom-cli', 'tcp-clients', ['127.0.0.1', server.info.port as number, N]);
  assert.equal(cli.info.done, N);
  const ref = await runTraffic('nwt-prom-ref', 'refused', ['127.0.0.1', closedPort, K]);
  assert.equal(ref.info.refused, K);
});
after(async () => {
  await stopChild(server);
  await prom?.stop();
  await agent?.stop();
  await sink?.stop();
});

test('Prometheus scrapes the agent: the target is up', async () => {
  await until(`up{job="netwatch"}`, (s) => s.length === 1 && s[0].value === 1);
  const t = await prom.targets();
  assert.deepEqual(
    t.map((x) => [x.health, x.scrapeUrl]),
    [['up', `http://127.0.0.1:${metricsPort}/metrics`]],
  );
});

test('the stored series count exactly N connections opened each way on the server port', async () => {
  const port = server.info.port as number;
  const out = await until(`netwatch_connection_opened_total{server_port="${port}",netwatch_connection_direction="outbound"}`, (s) => total(s) === N);
  assert.deepEqual(
    out.map((s) => [s.metric.network_transport, s.metric.network_type, s.value]),
    [['tcp', 'ipv4', N]],
  );
  await until(`netwatch_connection_opened_total{server_port="${port}",netwatch_connection_direction="inbound"}`, (s) => total(s) === N);
  await sink.waitFor(() => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' }) === N, 10_000);
});

test('exactly K refused connects, and N closed connections in the duration histogram with their bytes', async () => {
  const port = server.info.port as number;
  const failed = await until(`netwatch_connection_failed_total{server_port="${closedPort}"}`, (s) => total(s) === K);
  assert.deepEqual(
    failed.map((s) => s.metric.error_type),
    ['ECONNREFUSED'],
  );
  await until(`netwatch_connection_duration_count{server_port="${port}",netwatch_connection_direction="outbound"}`, (s) => total(s) === N);
  const outbound = `server_port="${port}",netwatch_connection_direction="outbound"`;
  await until(`netwatch_connection_io_total{${outbound},network_io_direction="transmit"}`, (s) => total(s) === N * 'hello'.length);
  await until(`netwatch_connection_io_total{${outbound},network_io_direction="receive"}`, (s) => total(s) === N * 'ok'.length);
});

test("the agent's own health metrics are scraped too: events read, none lost", async () => {
  const read = await until('netwatch_agent_events_read_total{netwatch_probe="connections"}', (s) => total(s) > 0);
  assert.ok(read[0].value >= 4 * N);
  const lost = await until('netwatch_agent_events_lost_total{netwatch_probe="connections"}', (s) => s.length === 1);
  assert.equal(lost[0].value, 0);
});
