import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, type AgentConfig, type OtlpExporterConfig, type OtlpHttpExporterConfig } from '../../../src/config';
import { ConfigError } from '../../../src/errors';

const FILE = `
receivers:
  connections:
exporters:
  otlp:
  otlphttp:
service:
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [otlp, otlphttp]
`;

const load = (env: Record<string, string>, yaml = FILE): AgentConfig => parseConfig(yaml, 'test.yaml', env);
/** The metrics side of each exporter (logs differ only through OTEL_EXPORTER_OTLP_LOGS_*). */
const otlp = (cfg: AgentConfig, signal: 'metrics' | 'logs' = 'metrics') => (cfg.exporters.otlp as OtlpExporterConfig)[signal];
const otlphttp = (cfg: AgentConfig, signal: 'metrics' | 'logs' = 'metrics') => (cfg.exporters.otlphttp as OtlpHttpExporterConfig)[signal];
const problems = (env: Record<string, string>, yaml = FILE): readonly string[] => {
  try {
    load(env, yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

test('without OTEL_* variables the exporters use the collector defaults', () => {
  const cfg = load({});
  assert.deepEqual(
    {
      endpoint: otlp(cfg).endpoint,
      insecure: otlp(cfg).tls.insecure,
      compression: otlp(cfg).compression,
      timeout: otlp(cfg).timeout_ms,
      headers: otlp(cfg).headers,
    },
    { endpoint: 'http://localhost:4317', insecure: true, compression: 'gzip', timeout: 10_000, headers: {} },
  );
  assert.equal(otlphttp(cfg).endpoint, 'http://localhost:4318/v1/metrics');
  assert.equal(otlphttp(cfg).tls.insecure, true);
  assert.deepEqual(cfg.service.telemetry.resource, {});
});

test('OTEL_EXPORTER_OTLP_* variables become the defaults of both OTLP exporters', () => {
  const cfg = load({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-tenant = 7 ',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.pem',
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/client.pem',
    OTEL_EXPORTER_OTLP_CLIENT_KEY: '/client.key',
  });
  assert.equal(otlp(cfg).endpoint, 'https://collector:4318');
  assert.equal(otlphttp(cfg).endpoint, 'https://collector:4318/v1/metrics');
  for (const e of [otlp(cfg), otlphttp(cfg)]) {
    assert.deepEqual(e.headers, { authorization: 'Bearer abc', 'x-tenant': '7' });
    assert.equal(e.compression, 'none');
    assert.equal(e.timeout_ms, 2500);
    assert.deepEqual([e.tls.ca_file, e.tls.cert_file, e.tls.key_file, e.tls.insecure], ['/ca.pem', '/client.pem', '/client.key', false]);
  }
});

test('OTEL_EXPORTER_OTLP_INSECURE applies to a gRPC host:port endpoint, but the scheme of a URL wins', () => {
  assert.equal(otlp(load({ OTEL_EXPORTER_OTLP_INSECURE: 'TRUE' })).tls.insecure, true);
  assert.equal(otlp(load({ OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4317' })).tls.insecure, false);
});

test('settings in the file win over OTEL_* variables, and headers merge key by key', () => {
  const yaml = FILE.replace('  otlp:\n', '  otlp:\n    endpoint: file:4317\n    compression: gzip\n    headers:\n      x-tenant: "9"\n      x-extra: yes\n');
  const cfg = load(
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4317', OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=a,x-tenant=7' },
    yaml,
  );
  assert.equal(otlp(cfg).endpoint, 'file:4317');
  assert.equal(otlp(cfg).compression, 'gzip');
  assert.deepEqual(otlp(cfg).headers, { authorization: 'a', 'x-tenant': '9', 'x-extra': 'yes' });
});

test('OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME fill the resource, and the file wins', () => {
  const withResource = FILE + '  telemetry:\n    resource:\n      deployment.environment.name: prod\n';
  const cfg = load({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a,deployment.environment.name=dev,team=net%2Fops', OTEL_SERVICE_NAME: 'edge' }, withResource);
  assert.deepEqual(cfg.service.telemetry.resource, { 'service.name': 'edge', 'deployment.environment.name': 'prod', team: 'net/ops' });
});

test('a bad OTEL_* default is reported at the setting it would fill, naming the variable', () => {
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_TIMEOUT: '10s', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }), [
    'exporters.otlp.timeout: its default from OTEL_EXPORTER_OTLP_TIMEOUT="10s" must be a whole number of milliseconds above 0',
    'exporters.otlp.compression: must be one of gzip, none; got "zstd" (this default comes from OTEL_EXPORTER_OTLP_COMPRESSION)',
    'exporters.otlphttp.timeout: its default from OTEL_EXPORTER_OTLP_TIMEOUT="10s" must be a whole number of milliseconds above 0',
    'exporters.otlphttp.compression: must be one of gzip, none; got "zstd" (this default comes from OTEL_EXPORTER_OTLP_COMPRESSION)',
  ]);
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' }), [
    'exporters.otlp.endpoint: must be host:port such as collector:4317 (or http(s)://host:port), got "collector" (this default comes from OTEL_EXPORTER_OTLP_ENDPOINT)',
    'exporters.otlphttp.endpoint: must be an http:// or https:// URL such as http://collector:4318, got "collector" (this default comes from OTEL_EXPORTER_OTLP_ENDPOINT)',
  ]);
});

test('a bad OTEL_* variable does not matter when the file sets that setting', () => {
  const yaml = FILE.replace('  otlp:\n  otlphttp:\n', '  otlp:\n    timeout: 1s\n');
  const onlyOtlp = yaml.replace('exporters: [otlp, otlphttp]', 'exporters: [otlp]');
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_TIMEOUT: 'soon' }, onlyOtlp), []);
});

test('a malformed OTEL_EXPORTER_OTLP_HEADERS is reported without printing its values', () => {
  const found = problems({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret,garbage-s3cret' });
  assert.deepEqual(found.slice(0, 1), ['exporters.otlp.headers: OTEL_EXPORTER_OTLP_HEADERS: entry 2 must be key=value (percent-encoded), separated by commas']);
  assert.ok(found.every((p) => !p.includes('s3cret')));
});

test('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION is the OTLP exporters histogram_aggregation unless the file sets it; a bad value is an error', () => {
  const aggregation = (cfg: AgentConfig, id: 'otlp' | 'otlphttp') => (cfg.exporters[id] as OtlpExporterConfig | OtlpHttpExporterConfig).histogram_aggregation;
  const none = load({});
  assert.deepEqual([aggregation(none, 'otlp'), aggregation(none, 'otlphttp')], ['explicit_bucket_histogram', 'explicit_bucket_histogram']);
  const env = { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'Base2_Exponential_Bucket_Histogram' };
  const fromEnv = load(env);
  assert.deepEqual(
    [aggregation(fromEnv, 'otlp'), aggregation(fromEnv, 'otlphttp')],
    ['base2_exponential_bucket_histogram', 'base2_exponential_bucket_histogram'],
  );
  const fileWins = load(env, FILE.replace('  otlp:\n', '  otlp:\n    histogram_aggregation: explicit_bucket_histogram\n'));
  assert.equal(aggregation(fileWins, 'otlp'), 'explicit_bucket_histogram');
  assert.deepEqual(problems({ OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'exponential' }), [
    'exporters.otlp.histogram_aggregation: its default from OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION="exponential" must be one of explicit_bucket_histogram, base2_exponential_bucket_histogram',
    'exporters.otlphttp.histogram_aggregation: its default from OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION="exponential" must be one of explicit_bucket_histogram, base2_exponential_bucket_histogram',
  ]);
});
