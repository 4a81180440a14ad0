import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, summarizeConfig, type AgentConfig } from '../../../src/config';

const file = (exporters: string, ids: string[], signals = ['metrics', 'logs']): string => `receivers:
  connections:
exporters:
${exporters.replace(/^/gm, '  ')}
service:
  pipelines:
${signals.map((s) => `    ${s}: {receivers: [connections], exporters: [${ids.join(', ')}]}`).join('\n')}
`;
const load = (text: string, env: Record<string, string> = {}): AgentConfig => parseConfig(text, 'test.yaml', env);

test("otlp_grpc and otlp_http, the collector's current names, configure the same exporters as otlp and otlphttp, without notices", () => {
  const current = load(
    file('otlp_grpc: {endpoint: "collector:4317", timeout: 3s, compression: none}\notlp_http: {endpoint: "http://collector:4318"}', ['otlp_grpc', 'otlp_http']),
  );
  const old = load(
    file('otlp: {endpoint: "collector:4317", timeout: 3s, compression: none}\notlphttp: {endpoint: "http://collector:4318"}', ['otlp', 'otlphttp']),
  );
  assert.deepEqual({ ...current.exporters.otlp_grpc, id: 'x' }, { ...old.exporters.otlp, id: 'x' });
  assert.deepEqual({ ...current.exporters.otlp_http, id: 'x' }, { ...old.exporters.otlphttp, id: 'x' });
  const g = current.exporters.otlp_grpc;
  assert.ok(g.type === 'otlp');
  assert.deepEqual([g.metrics.timeout_ms, g.metrics.compression], [3000, 'none'], 'timeout and compression are the SDK exporter options');
  assert.equal(current.notices, undefined);
});

test('the old names are reported once each as deprecated, naming every component that uses them', () => {
  const cfg = load(
    file('otlp: {endpoint: "a:4317"}\notlp/backup: {endpoint: "b:4317"}\notlphttp: {endpoint: "http://c:4318"}', ['otlp', 'otlp/backup', 'otlphttp']),
  );
  assert.deepEqual(cfg.notices, [
    '"otlp" is the deprecated old name of "otlp_grpc" (the collector\'s since v0.144), used by exporters.otlp, exporters.otlp/backup; rename it',
    '"otlphttp" is the deprecated old name of "otlp_http" (the collector\'s since v0.144), used by exporters.otlphttp; rename it',
  ]);
  const summary = summarizeConfig(cfg).split('\n');
  assert.deepEqual(summary.slice(0, 3), ['test.yaml: valid', `  note: ${cfg.notices[0]}`, `  note: ${cfg.notices[1]}`]);
});

test("otlp_http's metrics_endpoint and logs_endpoint are full URLs used as is, over endpoint and the environment", () => {
  const cfg = load(file('otlp_http:\n  endpoint: http://collector:4318\n  logs_endpoint: https://logs.example.com/ingest/otlp', ['otlp_http']), {
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://env:4318/v1/logs',
  });
  const h = cfg.exporters.otlp_http;
  assert.ok(h.type === 'otlphttp');
  assert.deepEqual(
    [h.metrics.endpoint, h.logs.endpoint, h.logs.tls.insecure],
    ['http://collector:4318/v1/metrics', 'https://logs.example.com/ingest/otlp', false],
  );
});

test("prometheus takes the collector's endpoint: host:port as well as host and port", () => {
  const at = (endpoint: string) => {
    const p = load(file(`prometheus: {endpoint: "${endpoint}"}`, ['prometheus'], ['metrics'])).exporters.prometheus;
    assert.ok(p.type === 'prometheus');
    return `${p.host} ${p.port}`;
  };
  assert.equal(at('0.0.0.0:8889'), '0.0.0.0 8889');
  assert.equal(at('[::1]:9000'), '::1 9000');
  assert.equal(at(':8889'), '0.0.0.0 8889', 'an empty host is every interface, as in the collector');
  assert.equal(at('localhost:9100'), 'localhost 9100');
});
