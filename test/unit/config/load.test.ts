import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFile, parseConfig, parseDuration, type AgentConfig } from '../../../src/config';
import { repoPath } from '../../helpers/paths';

const good = (name: string): AgentConfig => loadConfigFile(repoPath('test', 'fixtures', 'config', 'good', name), {});

test('empty component bodies get every default', () => {
  const cfg = good('minimal.yaml');
  assert.deepEqual(cfg.receivers.connections, {
    type: 'connections',
    id: 'connections',
    ring_buffer_size: 4_194_304,
    poll_interval_ms: 10,
    // a quarter of the ring: batched wakeups, poll_interval bounds how late a record is
    wakeup_bytes: 1_048_576,
    interval_ms: 10_000,
    table_size: 8192,
    include_self: false,
    seed_existing: true,
    include: { process_pid: false, peer_address: false, client_port: false },
    metrics: {},
    events: {},
    logs: { sampling_ratio: 1, max_per_second: 1000 },
    // netwatch.connection.rtt from 10 µs, where loopback and same-host round trips are.
    rtt_buckets_us: [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000],
  });
  assert.deepEqual(cfg.exporters.debug, { type: 'debug', id: 'debug', verbosity: 'basic' });
  assert.deepEqual(cfg.service.telemetry, {
    logs: { level: 'info' },
    metrics: { export_interval_ms: 60_000, cardinality_limit: 2000, export_timeout_ms: 30_000 },
    resource: {},
    sdk_disabled: false,
    sdk_log_level: 'warn',
  });
  assert.deepEqual(cfg.processors, {});
});

test('an empty packet_fate receiver gets every default, ignoring the reason that says nothing', () => {
  const cfg = parseConfig(
    'receivers: {packet_fate: }\nexporters: {debug: }\nservice: {pipelines: {metrics: {receivers: [packet_fate], exporters: [debug]}}}',
    'inline.yaml',
    {},
  );
  assert.deepEqual(cfg.receivers.packet_fate, {
    type: 'packet_fate',
    id: 'packet_fate',
    ring_buffer_size: 262_144,
    poll_interval_ms: 100,
    interval_ms: 10_000,
    sample_per_interval: 100,
    table_size: 16_384,
    ignore_reasons: ['NOT_SPECIFIED'],
    include: { process_pid: false },
    metrics: {},
    events: {},
  });
});

test('every component type reads its settings, and text stays text', () => {
  const cfg = good('every-component.yaml');
  const c = cfg.receivers.connections;
  assert.ok(c.type === 'connections');
  assert.deepEqual([c.ring_buffer_size, c.poll_interval_ms, c.wakeup_bytes, c.seed_existing, c.logs.max_per_second], [8_388_608, 90_000, 1_048_576, false, 0]);
  assert.deepEqual(c.metrics, { 'netwatch.connection.io': { enabled: false } });
  assert.deepEqual(c.events, { 'netwatch.connection.close': { enabled: true } });
  assert.equal(cfg.receivers['connections/second'].poll_interval_ms, 500);
  assert.deepEqual(c.rtt_buckets_us, [5, 50, 500, 5000]);
  const sni = cfg.receivers['sni/edge'];
  assert.ok(sni.type === 'sni');
  assert.deepEqual(
    [
      sni.interfaces,
      sni.rescan_interval_ms,
      sni.ports,
      sni.ring_buffer_size,
      sni.poll_interval_ms,
      sni.max_flows,
      sni.capture_bytes,
      sni.capture_segments,
      sni.idle_timeout_ms,
    ],
    [['eth0', 'lo'], 0, [443, 8443], 1_048_576, 20, 2048, 8192, 8, 2000],
  );
  assert.deepEqual(
    [sni.server_names, sni.include, sni.logs],
    [{ max_distinct: 50, max_length: 64 }, { process_pid: true }, { sampling_ratio: 0.5, max_per_second: 10 }],
  );
  assert.deepEqual(sni.metrics, { 'netwatch.tls.client_hello.rejections': { enabled: false } });
  assert.deepEqual(sni.events, { 'netwatch.tls.client_hello': { enabled: false } });
  assert.deepEqual(cfg.receivers.packet_fate, {
    type: 'packet_fate',
    id: 'packet_fate',
    ring_buffer_size: 524_288,
    poll_interval_ms: 50,
    interval_ms: 5000,
    sample_per_interval: 20,
    table_size: 4096,
    ignore_reasons: ['NOT_SPECIFIED', 'QUEUE_PURGE'],
    include: { process_pid: true },
    metrics: { 'netwatch.tcp.retransmits': { enabled: false } },
    events: { 'netwatch.tcp.retransmit': { enabled: true } },
  });
  const f = cfg.processors['filter/web'];
  assert.ok(f.type === 'filter');
  assert.deepEqual(f.include[0], {
    process: ['nginx', 'python3*'],
    container_id: [],
    container_runtime: [],
    nomad_job: [],
    ports: [80, 443],
    cidrs: [],
    direction: ['inbound'],
    transport: [],
  });
  assert.deepEqual(f.exclude[0].cidrs, ['127.0.0.0/8', '::1/128', '::ffff:10.0.0.0/104']);
  const o = cfg.exporters['otlp/tls'];
  assert.ok(o.type === 'otlp');
  assert.deepEqual(o.metrics.headers, { authorization: 'Bearer s3cr3t', 'x-org-id': '0042' }, 'YAML would read 0042 as a number');
  assert.deepEqual(
    [o.metrics.compression, o.metrics.timeout_ms, o.metrics.tls.insecure, o.metrics.tls.server_name_override],
    ['none', 2500, false, 'collector'],
  );
  assert.deepEqual(o.logs, o.metrics, 'without per-signal variables both signals are alike');
  const h = cfg.exporters.otlphttp;
  assert.ok(h.type === 'otlphttp');
  assert.deepEqual(
    [h.metrics.endpoint, h.logs.endpoint, h.metrics.encoding, h.metrics.tls.insecure],
    ['https://otlp.example.com/v1/metrics', 'https://otlp.example.com/v1/logs', 'json', false],
  );
  assert.deepEqual(cfg.exporters.prometheus, { type: 'prometheus', id: 'prometheus', host: '0.0.0.0', port: 8889 });
  assert.deepEqual(
    cfg.service.pipelines.map((p) => [p.id, p.signal]),
    [
      ['metrics', 'metrics'],
      ['metrics/local', 'metrics'],
      ['logs/remote', 'logs'],
    ],
  );
  assert.deepEqual(cfg.service.telemetry.resource, { 'service.name': 'edge-agent', 'deployment.version': '1.10' });
  assert.deepEqual(cfg.service.telemetry.metrics, { export_interval_ms: 15_000, cardinality_limit: 500, export_timeout_ms: 30_000 });
  assert.equal(cfg.service.telemetry.logs.level, 'debug');
});

test('the loaded config is frozen all the way down', () => {
  const cfg = good('every-component.yaml');
  const stack: unknown[] = [cfg];
  let objects = 0;
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    assert.ok(Object.isFrozen(v), `not frozen: ${JSON.stringify(v).slice(0, 80)}`);
    objects++;
    stack.push(...Object.values(v));
  }
  assert.ok(objects > 40);
  assert.throws(() => {
    (cfg.receivers.connections as { ring_buffer_size: number }).ring_buffer_size = 1;
  }, TypeError);
});

test('the source records the file it came from', () => {
  assert.equal(
    parseConfig(
      'service: {pipelines: {metrics: {receivers: [connections], exporters: [debug]}}}\nreceivers: {connections: }\nexporters: {debug: }',
      'inline.yaml',
      {},
    ).source,
    'inline.yaml',
  );
});

test('durations are read as the collector writes them', () => {
  const cases: [string, number | undefined][] = [
    ['10s', 10_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2500us', 3],
    ['0', 0],
    ['10', undefined],
    ['10 s', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});
