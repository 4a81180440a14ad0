// The sni receiver's metrics and log records from pipeline events: exact counts, bounded names,
// rejections from the receivers' stats, state carried over a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord, Logger as OtelLogger } from '@opentelemetry/api-logs';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { parseConfig } from '../../../../src/config';
import type { SniReceiverConfig } from '../../../../src/receivers/sni/config';
import { rootLogger } from '../../../../src/log';
import type { ProbeStats } from '../../../../src/receivers/receiver';
import { SniLogs } from '../../../../src/receivers/sni/logs';
import { SniMetrics, type SniMetricsState } from '../../../../src/receivers/sni/metrics';
import { tlsVersionName } from '../../../../src/receivers/sni/attributes';
import { sniEvent } from '../../pipeline/events';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function sniConfig(extra = ''): SniReceiverConfig {
  const cfg = parseConfig(
    `receivers:\n  sni:\n    interfaces: [lo]\n${extra}exporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [sni]\n      exporters: [debug]\n`,
    'test',
    {},
  );
  return cfg.receivers.sni as SniReceiverConfig;
}

function metrics(rc: SniReceiverConfig, stats: Record<string, ProbeStats> = {}, carry?: SniMetricsState) {
  const reader = new TestReader();
  const mp = new MeterProvider({ readers: [reader] });
  const m = new SniMetrics(mp.getMeter('t'), { receivers: [rc], carry, cardinalityLimit: 2000, onOverflow: () => {}, probeStats: () => stats });
  const points = async (name: string): Promise<DataPoint<number>[]> => {
    const { resourceMetrics } = await reader.collect();
    const found = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((x) => x.descriptor.name === name);
    return (found?.dataPoints ?? []) as DataPoint<number>[];
  };
  const sum = async (name: string, attrs: Record<string, unknown>) =>
    (await points(name)).filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + p.value, 0);
  return { m, points, sum };
}

test('each ClientHello is counted once by server name and port; SYNs are not ClientHellos', async () => {
  const { m, sum } = metrics(sniConfig());
  m.consume(sniEvent({ serverName: 'a.example', serverPort: 443 }));
  m.consume(sniEvent({ serverName: 'a.example', serverPort: 443, networkType: 'ipv6' }));
  m.consume(sniEvent({ serverName: 'a.example', serverPort: 8443, direction: 'ingress' }));
  m.consume(sniEvent({ kind: 'syn', serverName: undefined }));
  assert.equal(await sum('netwatch.tls.client_hellos', {}), 3);
  assert.equal(await sum('netwatch.tls.client_hellos', { 'server.address': 'a.example', 'server.port': 443 }), 2);
  assert.equal(await sum('netwatch.tls.client_hellos', { 'server.port': 8443, 'network.io.direction': 'receive' }), 1);
  assert.equal(await sum('netwatch.tls.client_hellos', { 'network.io.direction': 'transmit' }), 2, 'egress hellos are transmitted');
  assert.equal(await sum('netwatch.tls.client_hellos', { 'process.executable.name': 'curl' }), 3);
});

test('past max_distinct names new ones are "_OTHER", names are cut to max_length, and a hello without a name has no server.address', async () => {
  const { m, points, sum } = metrics(sniConfig('    server_names:\n      max_distinct: 2\n      max_length: 5\n'));
  for (const n of ['alpha.example', 'beta.example', 'gamma.example', 'alpha.example', 'delta.example']) m.consume(sniEvent({ serverName: n }));
  m.consume(sniEvent({ serverName: undefined }));
  assert.equal(await sum('netwatch.tls.client_hellos', { 'server.address': 'alpha' }), 2);
  assert.equal(await sum('netwatch.tls.client_hellos', { 'server.address': 'beta.' }), 1);
  assert.equal(await sum('netwatch.tls.client_hellos', { 'server.address': '_OTHER' }), 2);
  assert.equal((await points('netwatch.tls.client_hellos')).filter((p) => !('server.address' in p.attributes)).length, 1);
});

test('process.pid is on the counter only when include.process_pid is set', async () => {
  const off = metrics(sniConfig());
  off.m.consume(sniEvent());
  assert.ok((await off.points('netwatch.tls.client_hellos')).every((p) => !('process.pid' in p.attributes)));
  const on = metrics(sniConfig('    include:\n      process_pid: true\n'));
  on.m.consume(sniEvent({ pid: 77 }));
  assert.equal(await on.sum('netwatch.tls.client_hellos', { 'process.pid': 77 }), 1);
});

test("rejections are read from the receiver's stats at collection, by reason, zeros left out", async () => {
  const stats: Record<string, ProbeStats> = { sni: { read: 0, lost: 0, decodeErrors: 0, rejections: { not_handshake: 2, bad_sni_list: 0, byte_budget: 1 } } };
  const { points, sum } = metrics(sniConfig(), stats);
  assert.equal(await sum('netwatch.tls.client_hello.rejections', { 'error.type': 'not_handshake' }), 2);
  assert.equal(await sum('netwatch.tls.client_hello.rejections', { 'error.type': 'byte_budget' }), 1);
  assert.equal((await points('netwatch.tls.client_hello.rejections')).length, 2);
});

test('a reload carries the counts and the admitted names over', async () => {
  const rc = sniConfig('    server_names:\n      max_distinct: 1\n');
  const first = metrics(rc);
  first.m.consume(sniEvent({ serverName: 'kept.example' }));
  const second = metrics(rc, {}, first.m.state());
  second.m.consume(sniEvent({ serverName: 'new.example' }));
  second.m.consume(sniEvent({ serverName: 'kept.example' }));
  assert.equal(await second.sum('netwatch.tls.client_hellos', { 'server.address': 'kept.example' }), 2);
  assert.equal(await second.sum('netwatch.tls.client_hellos', { 'server.address': '_OTHER' }), 1);
});

class RecordingLogger implements OtelLogger {
  readonly records: LogRecord[] = [];
  emit(r: LogRecord): void {
    this.records.push(r);
  }
  enabled(): boolean {
    return true;
  }
}

test('one log record per ClientHello with the name, ALPN, versions and the tuple; none for SYNs', () => {
  const logger = new RecordingLogger();
  const logs = new SniLogs(logger, [sniConfig()], rootLogger);
  logs.consume(sniEvent({ serverName: 'x.example', alpn: ['h2', 'http/1.1'], versions: [0x0304, 0x0303], timeUnixMs: 1_700_000_000_000 }));
  logs.consume(sniEvent({ kind: 'syn' }));
  assert.equal(logger.records.length, 1);
  const r = logger.records[0];
  assert.equal(r.eventName, 'netwatch.tls.client_hello');
  assert.equal(r.timestamp, 1_700_000_000_000);
  assert.match(String(r.body), /curl asked 93\.184\.216\.34:443 for x\.example with ALPN h2,http\/1\.1/);
  assert.deepEqual(
    [
      r.attributes?.['server.address'],
      r.attributes?.['netwatch.tls.client.alpn'],
      r.attributes?.['netwatch.tls.client.versions'],
      r.attributes?.['source.address'],
      r.attributes?.['destination.port'],
    ],
    ['x.example', ['h2', 'http/1.1'], ['1.3', '1.2'], '10.0.0.2', 443],
  );
});

test('the ClientHello log event can be switched off', () => {
  const logger = new RecordingLogger();
  const logs = new SniLogs(logger, [sniConfig('    events:\n      netwatch.tls.client_hello:\n        enabled: false\n')], rootLogger);
  logs.consume(sniEvent());
  assert.equal(logger.records.length, 0);
});

test('TLS versions are named as people write them; drafts stay hex', () => {
  assert.deepEqual([0x0304, 0x0303, 0x0302, 0x0301, 0x0300, 0x0002, 0x7f1c].map(tlsVersionName), ['1.3', '1.2', '1.1', '1.0', 'ssl3', 'ssl2', '0x7f1c']);
});
