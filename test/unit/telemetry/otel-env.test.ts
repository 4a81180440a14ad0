// One test per OTEL_* variable netwatch honours, each through the config loader and the real
// exporters to the OTLP sink (the README's table of variables lists the same ones).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { diag } from '@opentelemetry/api';
import { parseConfig, redactConfig } from '../../../src/config';
import { ConfigError } from '../../../src/errors';
import { type LogLevel, setLogLevel, setLogSink } from '../../../src/log';
import { METRIC } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink, selfSignedCert, type SinkOptions } from '../../helpers/otlp-sink';
import { outboundLifecycle } from './fixtures';
import { KernelCounts } from '../../helpers/kernel-counts';

type Env = Record<string, string>;

/** A config with one exporter of `type` (settings as YAML lines) in a metrics and a logs pipeline. */
function yaml(type: 'otlp' | 'otlphttp', settings = '', telemetry = ''): string {
  return `receivers:
  connections:
exporters:
  ${type}:${settings ? `\n${settings.replace(/^/gm, '    ')}` : ''}
service:
  pipelines:
    metrics: {receivers: [connections], exporters: [${type}]}
    logs: {receivers: [connections], exporters: [${type}]}
${telemetry ? `  ${telemetry}` : ''}`;
}

/** Loads the config with `env`, sends one connection's worth of events, flushes and stops. */
async function exportOnce(env: Env, text: string, rounds = 1): Promise<void> {
  const cfg = parseConfig(text, 'test.yaml', env);
  const t = createTelemetry(cfg, { shutdownTimeoutMs: 2000 });
  const kernel = new KernelCounts();
  for (let i = 0; i < rounds; i++) {
    for (const ev of kernel.collect(outboundLifecycle())) {
      t.sinkFor('metrics').consume(ev);
      t.sinkFor('logs').consume(ev);
    }
    await t.forceFlush();
  }
  await t.shutdown();
}

async function withSinks<T>(n: number, fn: (...sinks: OtlpSink[]) => Promise<T>, opts: SinkOptions = {}): Promise<T> {
  const sinks = await Promise.all(Array.from({ length: n }, () => OtlpSink.start(opts)));
  try {
    return await fn(...sinks);
  } finally {
    await Promise.all(sinks.map((s) => s.stop()));
  }
}

const problems = (env: Env, text: string): readonly string[] => {
  try {
    parseConfig(text, 'test.yaml', env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};
const signalsAt = (s: OtlpSink) => [...new Set(s.requests.map((r) => r.signal))].sort();
const DEAD = 'http://127.0.0.1:9'; // the discard port: nothing listens on loopback

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netwatch-otel-env-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('OTEL_EXPORTER_OTLP_ENDPOINT is where both signals go when the file gives no endpoint', () =>
  withSinks(2, async (grpc, http) => {
    await exportOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://${grpc.grpcEndpoint}` }, yaml('otlp'));
    assert.deepEqual(signalsAt(grpc), ['logs', 'metrics']);
    await exportOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: http.httpEndpoint }, yaml('otlphttp'));
    assert.deepEqual(signalsAt(http), ['logs', 'metrics'], 'over HTTP the signal paths are appended');
  }));

test('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT and _LOGS_ENDPOINT win over the generic one, each for its signal (HTTP: used as is)', () =>
  withSinks(2, async (a, b) => {
    await exportOnce(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: DEAD,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://${a.grpcEndpoint}`,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://${b.grpcEndpoint}`,
      },
      yaml('otlp'),
    );
    assert.deepEqual([signalsAt(a), signalsAt(b)], [['metrics'], ['logs']]);
    await exportOnce(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: DEAD,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${b.httpEndpoint}/v1/metrics`,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${a.httpEndpoint}/v1/logs`,
      },
      yaml('otlphttp'),
    );
    assert.deepEqual(
      [signalsAt(a), signalsAt(b)],
      [
        ['logs', 'metrics'],
        ['logs', 'metrics'],
      ],
    );
  }));

test('an endpoint in the file wins over every OTEL_EXPORTER_OTLP_*ENDPOINT variable', () =>
  withSinks(1, async (s) => {
    await exportOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: DEAD, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: DEAD }, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`));
    assert.deepEqual(signalsAt(s), ['logs', 'metrics']);
  }));

test('OTEL_EXPORTER_OTLP_HEADERS, _METRICS_HEADERS and _LOGS_HEADERS merge per signal, the file winning over them', () =>
  withSinks(1, async (s) => {
    const env = {
      OTEL_EXPORTER_OTLP_HEADERS: 'x-all=1,x-over=generic,x-file=env',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-over=metrics,x-m=1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-l=1',
    };
    await exportOnce(env, yaml('otlp', `endpoint: http://${s.grpcEndpoint}\nheaders: {x-file: file}`));
    const pick = (signal: string) => {
      const h = s.requests.find((r) => r.signal === signal)!.headers;
      return [h['x-all'], h['x-over'], h['x-file'], h['x-m'], h['x-l']];
    };
    assert.deepEqual(pick('metrics'), ['1', 'metrics', 'file', '1', undefined]);
    assert.deepEqual(pick('logs'), ['1', 'generic', 'file', undefined, '1']);
  }));

test('per-signal headers are validated without quoting them and redacted like the generic ones', () => {
  const found = problems(
    { OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=s3cret,garbage-s3cret', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'bad%20name=s3cret' },
    yaml('otlp'),
  );
  assert.deepEqual(found, [
    'exporters.otlp.headers: OTEL_EXPORTER_OTLP_METRICS_HEADERS: entry 2 must be key=value (percent-encoded), separated by commas',
    'exporters.otlp.headers: "bad name" is not a valid header name (letters, digits and !#$%&\'*+-.^_`|~ only) (this default comes from OTEL_EXPORTER_OTLP_LOGS_HEADERS)',
  ]);
  const cfg = parseConfig(yaml('otlp'), 'test.yaml', { OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'authorization=s3cret' });
  const r = redactConfig(cfg).exporters.otlp;
  assert.ok(r.type === 'otlp');
  assert.deepEqual(r.logs.headers, { authorization: '<redacted>' });
});

test('per-signal header values never reach the agent log', () =>
  withSinks(1, async (s) => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    setLogLevel('debug');
    try {
      s.unavailable = true;
      await exportOnce(
        { OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20t0psecret', OTEL_LOG_LEVEL: 'all' },
        yaml('otlp', `endpoint: http://${s.grpcEndpoint}\ntimeout: 200ms`),
      );
      diag.error('export failed with authorization=Bearer t0psecret');
    } finally {
      setLogSink((line) => process.stderr.write(line + '\n'));
      setLogLevel('info');
    }
    assert.ok(lines.length > 0);
    assert.ok(
      lines.every((l) => !l.includes('t0psecret')),
      lines.join('\n'),
    );
  }));

test('OTEL_EXPORTER_OTLP_PROTOCOL chooses the encoding of otlphttp; _METRICS_/_LOGS_PROTOCOL per signal', () =>
  withSinks(1, async (s) => {
    await exportOnce(
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' },
      yaml('otlphttp', `endpoint: ${s.httpEndpoint}`),
    );
    const by = (signal: string) => [...new Set(s.requests.filter((r) => r.signal === signal).map((r) => r.transport))];
    assert.deepEqual([by('metrics'), by('logs')], [['http/json'], ['http/protobuf']]);
  }));

test('an OTEL_EXPORTER_OTLP_*PROTOCOL the exporter type cannot speak is reported, not ignored', () => {
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, yaml('otlp')), [
    'exporters.otlp: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf asks for OTLP/HTTP, but this exporter speaks OTLP/gRPC; export metrics with an otlp_http exporter instead, or unset OTEL_EXPORTER_OTLP_PROTOCOL',
    'exporters.otlp: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf asks for OTLP/HTTP, but this exporter speaks OTLP/gRPC; export logs with an otlp_http exporter instead, or unset OTEL_EXPORTER_OTLP_PROTOCOL',
  ]);
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' }, yaml('otlphttp')), [
    'exporters.otlphttp: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc asks for OTLP/gRPC, but this exporter speaks OTLP/HTTP; export logs with an otlp_grpc exporter instead, or unset OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
  ]);
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, yaml('otlp')), [
    'exporters.otlp: OTEL_EXPORTER_OTLP_PROTOCOL="http" must be one of grpc, http/protobuf, http/json',
  ]);
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, yaml('otlp')), []);
});

test('OTEL_EXPORTER_OTLP_TIMEOUT and _METRICS_/_LOGS_TIMEOUT bound each export request', () => {
  const cfg = parseConfig(yaml('otlp'), 'test.yaml', { OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '700' });
  const e = cfg.exporters.otlp;
  assert.ok(e.type === 'otlp');
  assert.deepEqual([e.metrics.timeout_ms, e.logs.timeout_ms], [2500, 700]);
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1s' }, yaml('otlp')), [
    'exporters.otlp.timeout: its default from OTEL_EXPORTER_OTLP_METRICS_TIMEOUT="1s" must be a whole number of milliseconds above 0',
  ]);
  return withSinks(1, async (s) => {
    // A collector that never answers: the 150 ms limit, not the file's default of 10 s, ends the export.
    s.unavailable = true;
    const started = Date.now();
    await exportOnce({ OTEL_EXPORTER_OTLP_TIMEOUT: '150' }, yaml('otlphttp', `endpoint: ${s.httpEndpoint}`));
    assert.ok(Date.now() - started < 5000);
  });
});

test('OTEL_EXPORTER_OTLP_COMPRESSION and _METRICS_/_LOGS_COMPRESSION choose gzip or none per signal', () =>
  withSinks(1, async (s) => {
    await exportOnce(
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' },
      yaml('otlphttp', `endpoint: ${s.httpEndpoint}`),
    );
    const enc = (signal: string) => [...new Set(s.requests.filter((r) => r.signal === signal).map((r) => r.headers['content-encoding'] ?? 'none'))];
    assert.deepEqual([enc('metrics'), enc('logs')], [['none'], ['gzip']]);
    assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'zstd' }, yaml('otlp')), [
      'exporters.otlp.compression: must be one of gzip, none; got "zstd" (this default comes from OTEL_EXPORTER_OTLP_LOGS_COMPRESSION)',
    ]);
  }));

test('OTEL_EXPORTER_OTLP_CERTIFICATE (and _METRICS_/_LOGS_CERTIFICATE) is the CA a TLS collector is verified with', async () => {
  const server = selfSignedCert(dir, 'ca-collector.test', { ip: '127.0.0.1' });
  await withSinks(
    1,
    async (s) => {
      await exportOnce({ OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: server.certFile }, yaml('otlp', `endpoint: https://${s.grpcEndpoint}`));
      assert.deepEqual(signalsAt(s), ['logs'], 'metrics have no CA that knows the collector');
      await exportOnce({ OTEL_EXPORTER_OTLP_CERTIFICATE: server.certFile }, yaml('otlphttp', `endpoint: ${s.httpEndpoint}`));
      assert.ok(s.requests.some((r) => r.signal === 'metrics' && r.transport === 'http/protobuf'));
    },
    { tls: { key: server.key, cert: server.cert } },
  );
});

test('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY (generic or per signal) authenticate to a collector that requires it', async () => {
  const server = selfSignedCert(dir, 'mtls-collector.test', { ip: '127.0.0.1' });
  const client = selfSignedCert(dir, 'agent.test');
  await withSinks(
    1,
    async (s) => {
      const base = { OTEL_EXPORTER_OTLP_CERTIFICATE: server.certFile };
      await exportOnce(base, yaml('otlp', `endpoint: https://${s.grpcEndpoint}`));
      assert.deepEqual(signalsAt(s), [], 'no client certificate, no export');
      await exportOnce(
        { ...base, OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: client.certFile, OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: client.keyFile },
        yaml('otlp', `endpoint: https://${s.grpcEndpoint}`),
      );
      assert.deepEqual(signalsAt(s), ['metrics']);
      await exportOnce(
        { ...base, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: client.certFile, OTEL_EXPORTER_OTLP_CLIENT_KEY: client.keyFile },
        yaml('otlphttp', `endpoint: ${s.httpEndpoint}`),
      );
      assert.deepEqual(signalsAt(s), ['logs', 'metrics']);
    },
    { tls: { key: server.key, cert: server.cert, clientCa: client.cert } },
  );
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: client.keyFile }, yaml('otlp')), [
    'exporters.otlp.tls.cert_file: is required when tls.key_file is set (a client certificate needs its key)',
  ]);
});

test('OTEL_EXPORTER_OTLP_INSECURE (and per signal) makes a gRPC host:port endpoint plaintext', () =>
  withSinks(1, async (s) => {
    await exportOnce(
      { OTEL_EXPORTER_OTLP_ENDPOINT: s.grpcEndpoint, OTEL_EXPORTER_OTLP_INSECURE: 'false', OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'true' },
      yaml('otlp'),
    );
    assert.deepEqual(signalsAt(s), ['logs'], 'metrics tried TLS against a plaintext collector');
    await exportOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: s.grpcEndpoint, OTEL_EXPORTER_OTLP_INSECURE: 'true' }, yaml('otlp'));
    assert.deepEqual(signalsAt(s), ['logs', 'metrics']);
  }));

test('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: delta sends counters and histograms as deltas, lowmemory the histograms', () =>
  withSinks(3, async (cumulative, delta, lowmemory) => {
    for (const [s, pref] of [
      [cumulative, 'cumulative'],
      [delta, 'DELTA'],
      [lowmemory, 'lowmemory'],
    ] as const) {
      await exportOnce({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: pref }, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`), 2);
    }
    const temporalities = (s: OtlpSink, metric: string) => [...new Set(s.latest(metric).map((p) => p.temporality))];
    const lastCount = (s: OtlpSink) => s.latest(METRIC.CONNECTION_DURATION).reduce((a, p) => a + p.count, 0);
    // Two rounds of one connection each, exported after each round.
    assert.deepEqual([temporalities(cumulative, METRIC.CONNECTION_OPENED), temporalities(cumulative, METRIC.CONNECTION_DURATION)], [[2], [2]]);
    assert.deepEqual([cumulative.sumOf(METRIC.CONNECTION_OPENED), lastCount(cumulative)], [2, 2]);
    assert.deepEqual([temporalities(delta, METRIC.CONNECTION_OPENED), temporalities(delta, METRIC.CONNECTION_DURATION)], [[1], [1]]);
    assert.deepEqual([delta.sumOf(METRIC.CONNECTION_OPENED), lastCount(delta)], [2, 1]);
    // The spec's lowmemory: synchronous counters and histograms delta; netwatch's counters are asynchronous, so cumulative.
    assert.deepEqual([temporalities(lowmemory, METRIC.CONNECTION_OPENED), temporalities(lowmemory, METRIC.CONNECTION_DURATION)], [[2], [1]]);
    assert.equal(lastCount(lowmemory), 1);
    assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' }, yaml('otlp')), [
      'service.telemetry.metrics: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="sometimes" must be one of cumulative, delta, lowmemory',
    ]);
  }));

test('OTEL_METRIC_EXPORT_INTERVAL is the export interval unless the file sets one', () =>
  withSinks(1, async (s) => {
    const cfg = parseConfig(yaml('otlp', `endpoint: http://${s.grpcEndpoint}`), 'test.yaml', { OTEL_METRIC_EXPORT_INTERVAL: '100' });
    assert.equal(cfg.service.telemetry.metrics.export_interval_ms, 100);
    const t = createTelemetry(cfg, { shutdownTimeoutMs: 2000 });
    for (const ev of outboundLifecycle()) t.sinkFor('metrics').consume(ev);
    await s.waitFor(() => s.requests.filter((r) => r.signal === 'metrics').length >= 3, 3000);
    await t.shutdown();
    const file = parseConfig(yaml('otlp', '', 'telemetry: {metrics: {export_interval: 5s}}'), 'test.yaml', { OTEL_METRIC_EXPORT_INTERVAL: '100' });
    assert.equal(file.service.telemetry.metrics.export_interval_ms, 5000);
  }));

test('OTEL_METRIC_EXPORT_TIMEOUT bounds a collect-and-export unless the file sets export_timeout', () => {
  assert.equal(parseConfig(yaml('otlp'), 't', {}).service.telemetry.metrics.export_timeout_ms, 30_000);
  assert.equal(parseConfig(yaml('otlp'), 't', { OTEL_METRIC_EXPORT_TIMEOUT: '1500' }).service.telemetry.metrics.export_timeout_ms, 1500);
  assert.equal(
    parseConfig(yaml('otlp', '', 'telemetry: {metrics: {export_timeout: 2s}}'), 't', { OTEL_METRIC_EXPORT_TIMEOUT: '1500' }).service.telemetry.metrics
      .export_timeout_ms,
    2000,
  );
  assert.deepEqual(problems({ OTEL_METRIC_EXPORT_TIMEOUT: 'soon' }, yaml('otlp')), [
    'service.telemetry.metrics.export_timeout: its default from OTEL_METRIC_EXPORT_TIMEOUT="soon" must be a whole number of milliseconds above 0',
  ]);
});

test('OTEL_SDK_DISABLED=true exports nothing', () =>
  withSinks(1, async (s) => {
    await exportOnce({ OTEL_SDK_DISABLED: 'true' }, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`));
    assert.deepEqual(s.requests, []);
    await exportOnce({ OTEL_SDK_DISABLED: 'false' }, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`));
    assert.deepEqual(signalsAt(s), ['logs', 'metrics']);
    assert.deepEqual(problems({ OTEL_SDK_DISABLED: 'yes' }, yaml('otlp')), ['service.telemetry: OTEL_SDK_DISABLED="yes" must be true or false']);
  }));

test("OTEL_LOG_LEVEL decides how much of the OpenTelemetry SDK's own diagnostics reaches the agent log", () => {
  const seen = (level: string | undefined, agentLevel: LogLevel = 'debug'): string[] => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    setLogLevel(agentLevel);
    try {
      const cfg = parseConfig(yaml('otlp'), 't', level ? { OTEL_LOG_LEVEL: level } : {});
      createTelemetry(cfg);
      diag.warn('w-message');
      diag.info('i-message');
      diag.debug('d-message');
    } finally {
      setLogSink((line) => process.stderr.write(line + '\n'));
      setLogLevel('info');
    }
    return ['w', 'i', 'd'].filter((k) => lines.some((l) => l.includes(`${k}-message`)));
  };
  assert.deepEqual(seen(undefined), ['w'], 'warnings and errors by default');
  assert.deepEqual(seen('info'), ['w', 'i']);
  assert.deepEqual(seen('DEBUG'), ['w', 'i', 'd']);
  assert.deepEqual(seen('none'), []);
  assert.deepEqual(problems({ OTEL_LOG_LEVEL: 'loud' }, yaml('otlp')), [
    'service.telemetry.logs: OTEL_LOG_LEVEL="loud" must be one of none, error, warn, info, debug, verbose, all',
  ]);
});

test("OTEL_RESOURCE_ATTRIBUTES are on the exported resource, under the file's service.telemetry.resource", () =>
  withSinks(1, async (s) => {
    await exportOnce(
      { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=dev,team=net%2Fops' },
      yaml('otlp', `endpoint: http://${s.grpcEndpoint}`, 'telemetry: {resource: {deployment.environment.name: prod}}'),
    );
    assert.deepEqual([s.resource()['deployment.environment.name'], s.resource().team], ['prod', 'net/ops']);
  }));

test('OTEL_SERVICE_NAME is the exported service.name, over OTEL_RESOURCE_ATTRIBUTES', () =>
  withSinks(1, async (s) => {
    await exportOnce({ OTEL_SERVICE_NAME: 'edge-agent', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`));
    assert.equal(s.resource()['service.name'], 'edge-agent');
    await exportOnce({}, yaml('otlp', `endpoint: http://${s.grpcEndpoint}`));
    assert.equal(s.resource()['service.name'], 'netwatch');
  }));
