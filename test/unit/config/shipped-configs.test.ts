import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfigFile } from '../../../src/config';
import { repoPath } from '../../helpers/paths';

const shipped = [
  'config/agent.yaml',
  ...readdirSync(repoPath('config', 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `config/examples/${f}`),
  ...readdirSync(repoPath('test', 'fixtures', 'config', 'good')).map((f) => `test/fixtures/config/good/${f}`),
];

for (const file of shipped) {
  test(`${file} is valid with an empty environment`, () => {
    assert.doesNotThrow(() => loadConfigFile(repoPath(file), {}));
  });
}

test('there are at least two examples besides agent.yaml', () => {
  assert.ok(shipped.filter((f) => f.startsWith('config/examples/')).length >= 2);
});

test('the shipped agent.yaml sends metrics and logs from connections to otlp and debug', () => {
  const cfg = loadConfigFile(repoPath('config/agent.yaml'), {});
  assert.deepEqual(
    cfg.service.pipelines.map((p) => [p.id, p.receivers, p.processors, p.exporters]),
    [
      ['metrics', ['connections'], [], ['otlp_grpc', 'debug']],
      ['logs', ['connections'], [], ['otlp_grpc', 'debug']],
    ],
  );
  assert.equal(cfg.service.telemetry.metrics.export_interval_ms, 10_000);
});

test('the shipped agent.yaml defines filter/ignore-loopback without using it, so loopback traffic shows', () => {
  const cfg = loadConfigFile(repoPath('config/agent.yaml'), {});
  const filter = cfg.processors['filter/ignore-loopback'];
  assert.equal(filter?.type, 'filter');
  assert.deepEqual(
    filter.exclude.map((r) => r.cidrs),
    [['127.0.0.0/8', '::1/128']],
  );
  assert.ok(cfg.service.pipelines.every((p) => !p.processors.includes('filter/ignore-loopback')));
});

test('the shipped agent.yaml exports to a plaintext local collector unless OTEL_EXPORTER_OTLP_ENDPOINT says otherwise', () => {
  const local = loadConfigFile(repoPath('config/agent.yaml'), {}).exporters.otlp_grpc;
  assert.equal(local.type, 'otlp');
  assert.deepEqual([local.type === 'otlp' && local.metrics.endpoint, local.type === 'otlp' && local.metrics.tls.insecure], ['http://localhost:4317', true]);
  const remote = loadConfigFile(repoPath('config/agent.yaml'), { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4317' }).exporters.otlp_grpc;
  assert.deepEqual(
    [remote.type === 'otlp' && remote.metrics.endpoint, remote.type === 'otlp' && remote.metrics.tls.insecure],
    ['https://collector.example.com:4317', false],
  );
});

test('the shipped agent.yaml serves health and the query API on loopback, without a token by default', () => {
  const { server } = loadConfigFile(repoPath('config/agent.yaml'), {}).service;
  assert.deepEqual([server.enabled, server.host, server.port, server.bearer_token], [true, '127.0.0.1', 9465, '']);
});

test('the server is off unless a file turns it on, so agents started by tests or libraries bind no port', () => {
  const cfg = loadConfigFile(repoPath('config/examples/otlphttp-json.yaml'), {});
  assert.equal(cfg.service.server.enabled, false);
});
