import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExporterConfig } from '../../../src/config/types';
import type { ConnPipelineEvent } from '../../../src/pipeline/event';
import { ATTR, EVENT, EVENTS, METRIC, METRICS, SCHEMA_URL, type MetricName } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, newSock, otlpGrpc, otlpHttp, outboundLifecycle } from './fixtures';
import { withKernelCounts } from '../../helpers/kernel-counts';

const N = 5; // outbound connections that complete
const M = 3; // inbound connections accepted, of which ACCEPT_CLOSED close
const ACCEPT_CLOSED = 1;
const K = 2; // outbound connections refused

function workload(): ConnPipelineEvent[] {
  const evs: ConnPipelineEvent[] = [];
  for (let i = 0; i < N; i++) evs.push(...outboundLifecycle({ timeUnixMs: 1_700_000_000_000 + i }));
  for (let i = 0; i < M; i++) {
    const sock = newSock();
    const base = {
      sock,
      direction: 'inbound' as const,
      exe: 'nginx',
      pid: 77,
      process: { pid: 77, executableName: 'nginx', commandLine: '' },
      localPort: 8080,
      remotePort: 50000 + i,
      container: { cgroupPath: '/x', runtime: 'docker' as const, id: 'c0ffee' },
    };
    evs.push(connEvent({ ...base, kind: 'state', oldState: 'syn_received', newState: 'established' }));
    evs.push(connEvent({ ...base, kind: 'accept', newState: 'established' }));
    if (i < ACCEPT_CLOSED) {
      evs.push(connEvent({ ...base, kind: 'close', oldState: 'close_wait', newState: 'closed', bytesSent: 7, bytesReceived: 9, durationNs: 2e9, srttUs: 200 }));
    }
  }
  for (let i = 0; i < K; i++) {
    const sock = newSock();
    evs.push(connEvent({ sock, kind: 'connect', remotePort: 5432, localPort: 0 }));
    evs.push(connEvent({ sock, kind: 'state', remotePort: 5432, oldState: 'closed', newState: 'syn_sent' }));
    evs.push(connEvent({ sock, kind: 'close', remotePort: 5432, oldState: 'syn_sent', newState: 'closed', error: 111, timeUnixMs: 1_700_000_009_000 + i }));
  }
  evs.push(connEvent({ sock: newSock(), kind: 'existing', direction: 'unknown', newState: 'established', exe: 'sshd', process: undefined }));
  return evs;
}

/** The schema URLs of every resource and scope received, metrics and logs alike. */
function schemaUrls(s: OtlpSink): { resources: unknown[]; scopes: unknown[] } {
  type Scoped = { schemaUrl?: string; scopeMetrics?: { schemaUrl?: string }[]; scopeLogs?: { schemaUrl?: string }[] };
  const resources: unknown[] = [];
  const scopes: unknown[] = [];
  for (const r of s.requests) {
    for (const rx of [...((r.body.resourceMetrics as Scoped[] | undefined) ?? []), ...((r.body.resourceLogs as Scoped[] | undefined) ?? [])]) {
      resources.push(rx.schemaUrl);
      for (const sc of [...(rx.scopeMetrics ?? []), ...(rx.scopeLogs ?? [])]) scopes.push(sc.schemaUrl);
    }
  }
  return { resources, scopes };
}

const transports: [string, (s: OtlpSink) => ExporterConfig][] = [
  ['OTLP/gRPC', (s) => otlpGrpc(s.grpcEndpoint)],
  ['OTLP/HTTP protobuf', (s) => otlpHttp(s.httpEndpoint, 'proto')],
  ['OTLP/HTTP JSON', (s) => otlpHttp(s.httpEndpoint, 'json')],
];

for (const [name, exporter] of transports) {
  test(`synthetic connection events sent over ${name} arrive with exact counts, catalogue units and attribute names`, async () => {
    const s = await OtlpSink.start();
    try {
      const cfg = agentConfig({ exporters: [exporter(s)], resource: { 'deployment.environment.name': 'test' } });
      const t = createTelemetry(cfg);
      for (const ev of withKernelCounts(workload())) {
        t.sinkFor('metrics').consume(ev);
        t.sinkFor('logs').consume(ev);
      }
      await t.forceFlush();
      await t.shutdown();

      assert.equal(s.sumOf(METRIC.CONNECTION_OPENED), N + K + M);
      assert.equal(s.sumOf(METRIC.CONNECTION_OPENED, { [ATTR.CONNECTION_DIRECTION]: 'outbound', [ATTR.PROCESS_EXECUTABLE_NAME]: 'curl' }), N + K);
      assert.equal(s.sumOf(METRIC.CONNECTION_OPENED, { [ATTR.CONNECTION_DIRECTION]: 'inbound', [ATTR.SERVER_PORT]: 8080, [ATTR.CONTAINER_ID]: 'c0ffee' }), M);
      assert.equal(s.sumOf(METRIC.CONNECTION_FAILED), K);
      assert.equal(s.sumOf(METRIC.CONNECTION_FAILED, { [ATTR.ERROR_TYPE]: 'ECONNREFUSED', [ATTR.SERVER_PORT]: 5432 }), K);
      // Still open: the accepted connections not closed, and the seeded one.
      assert.equal(s.sumOf(METRIC.CONNECTION_ACTIVE), M - ACCEPT_CLOSED + 1);
      assert.equal(
        s.sumOf(METRIC.CONNECTION_ACTIVE, { [ATTR.NETWORK_CONNECTION_STATE]: 'established', [ATTR.PROCESS_EXECUTABLE_NAME]: 'nginx' }),
        M - ACCEPT_CLOSED,
      );
      assert.equal(s.sumOf(METRIC.CONNECTION_ACTIVE, { [ATTR.NETWORK_CONNECTION_STATE]: 'syn_sent' }), 0);
      assert.equal(
        s.sumOf(METRIC.CONNECTION_STATE_TRANSITIONS, { [ATTR.CONNECTION_PREVIOUS_STATE]: 'syn_sent', [ATTR.NETWORK_CONNECTION_STATE]: 'established' }),
        N,
      );
      assert.equal(
        s.sumOf(METRIC.CONNECTION_STATE_TRANSITIONS, { [ATTR.CONNECTION_PREVIOUS_STATE]: 'syn_sent', [ATTR.NETWORK_CONNECTION_STATE]: 'closed' }),
        K,
      );
      assert.equal(s.sumOf(METRIC.CONNECTION_IO, { [ATTR.NETWORK_IO_DIRECTION]: 'transmit' }), N * 100 + ACCEPT_CLOSED * 7);
      assert.equal(s.sumOf(METRIC.CONNECTION_IO, { [ATTR.NETWORK_IO_DIRECTION]: 'receive' }), N * 2000 + ACCEPT_CLOSED * 9);
      assert.equal(s.sumOf(METRIC.CONNECTION_IO, { [ATTR.NETWORK_IO_DIRECTION]: 'receive', [ATTR.CONNECTION_DIRECTION]: 'inbound' }), ACCEPT_CLOSED * 9);
      assert.equal(s.sumOf(METRIC.CONNECTION_IO), N * 2100 + ACCEPT_CLOSED * 16);
      const duration = s.histogram(METRIC.CONNECTION_DURATION)!;
      assert.equal(duration.count, N + ACCEPT_CLOSED);
      assert.ok(Math.abs(duration.sum - (N * 0.25 + ACCEPT_CLOSED * 2)) < 1e-9);
      assert.deepEqual(duration.explicitBounds, METRICS[METRIC.CONNECTION_DURATION].buckets);
      assert.equal(s.histogram(METRIC.CONNECTION_RTT)!.count, N + ACCEPT_CLOSED);
      assert.ok(Math.abs(s.histogram(METRIC.CONNECTION_RTT)!.sum - (N * 0.0015 + ACCEPT_CLOSED * 0.0002)) < 1e-9);

      for (const m of s.metricNames()) {
        const d = METRICS[m as MetricName];
        assert.ok(d, `${m} is not in the catalogue`);
        for (const p of s.latest(m)) {
          assert.equal(p.unit, d.unit, `unit of ${m}`);
          for (const k of Object.keys(p.attributes)) assert.ok((d.attributes as string[]).includes(k), `${m} carries ${k}, not in the catalogue`);
          for (const k of [ATTR.PROCESS_PID, ATTR.NETWORK_PEER_ADDRESS, ATTR.CLIENT_PORT]) assert.ok(!(k in p.attributes), `${m} carries opt-in ${k}`);
        }
      }

      const res = s.resource();
      assert.equal(res['service.name'], 'netwatch');
      assert.equal(res['deployment.environment.name'], 'test');
      assert.equal(typeof res['service.version'], 'string');
      assert.equal(typeof res['host.name'], 'string');
      assert.match(String(res['service.instance.id']), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/, 'a UUID v5');
      // The resource and every scope name the conventions' version their names follow.
      const urls = schemaUrls(s);
      assert.ok(urls.resources.length > 0 && urls.scopes.length > 0);
      assert.deepEqual(new Set([...urls.resources, ...urls.scopes]), new Set([SCHEMA_URL]));

      assert.equal(s.logs({ eventName: EVENT.CONNECTION_OPEN }).length, N + K);
      assert.equal(s.logs({ eventName: EVENT.CONNECTION_ACCEPT }).length, M);
      assert.equal(s.logs({ eventName: EVENT.CONNECTION_CLOSE }).length, N + ACCEPT_CLOSED);
      assert.equal(s.logs({ eventName: EVENT.CONNECTION_STATE_CHANGE }).length, 0, 'state_change is off by default');
      const failures = s.logs({ eventName: EVENT.CONNECTION_FAILURE });
      assert.deepEqual(
        failures.map((r) => r.timeUnixMs),
        [1_700_000_009_000, 1_700_000_009_001],
      );
      assert.equal(failures[0].attributes[ATTR.ERROR_TYPE], 'ECONNREFUSED');
      assert.equal(failures[0].severityText, EVENTS[EVENT.CONNECTION_FAILURE].severityText);
      assert.equal(failures[0].severityNumber, EVENTS[EVENT.CONNECTION_FAILURE].severityNumber);
      const opens = s.logs({ eventName: EVENT.CONNECTION_OPEN });
      assert.deepEqual(
        opens.slice(0, N).map((r) => r.timeUnixMs),
        [0, 1, 2, 3, 4].map((i) => 1_700_000_000_000 + i),
      );
      const close = s.logs({ eventName: EVENT.CONNECTION_CLOSE })[0];
      assert.equal(close.attributes[ATTR.CONNECTION_TRANSMITTED_SIZE], 100);
      assert.equal(close.attributes[ATTR.CONNECTION_RECEIVED_SIZE], 2000);
      assert.equal(close.attributes[ATTR.CONNECTION_RETRANSMITS], 1);
      assert.equal(close.attributes[ATTR.CONNECTION_DURATION], 0.25);
      assert.equal(close.attributes[ATTR.NETWORK_PEER_ADDRESS], '10.0.0.2');
      for (const r of s.logs()) assert.ok(!('event.name' in r.attributes), "the event name is the record's eventName, not an attribute");
      assert.equal(close.resource['service.name'], 'netwatch');
    } finally {
      await s.stop();
    }
  });
}

test('gRPC exports carry the configured headers as metadata', async () => {
  const s = await OtlpSink.start();
  try {
    const t = createTelemetry(agentConfig({ exporters: [otlpGrpc(s.grpcEndpoint, { headers: { 'x-tenant': 'acme' } })], signals: ['metrics'] }));
    t.sinkFor('metrics').consume(connEvent());
    await t.shutdown();
    assert.ok(s.requests.length > 0);
    assert.ok(s.requests.every((r) => r.headers['x-tenant'] === 'acme'));
  } finally {
    await s.stop();
  }
});
