import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, test } from 'node:test';
import { type LogLevel, setLogSink } from '../../../src/log';
import { ATTR, METRIC } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, otlpGrpc, otlpHttp } from './fixtures';
import { withKernelCounts } from '../../helpers/kernel-counts';

const SECRET = 'Bearer s3cr3t-t0ken-value';
const lines: { line: string; level: LogLevel }[] = [];
setLogSink((line, level) => lines.push({ line, level }));
afterEach(() => {
  lines.length = 0;
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (level: LogLevel) => lines.filter((l) => l.level === level).map((l) => l.line);

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

test('a collector answering UNAVAILABLE gets one warning across many intervals and both signals, and its recovery one info line', async () => {
  const s = await OtlpSink.start({ unavailable: true });
  const exporter = otlpGrpc(s.grpcEndpoint, { headers: { authorization: SECRET }, timeout_ms: 150 });
  const t = createTelemetry(agentConfig({ exporters: [exporter], intervalMs: 200 }));
  try {
    for (const ev of withKernelCounts([connEvent()])) t.sinkFor('metrics').consume(ev);
    t.sinkFor('logs').consume(connEvent());
    await sleep(1300); // six metric intervals and log batches
    const warnings = at('warn');
    assert.equal(warnings.length, 1, 'one outage of one exporter, whichever signal failed first: ' + warnings.join('\n'));
    assert.match(
      warnings[0],
      new RegExp(`exporter otlp \\((metrics|logs)\\): cannot reach ${s.grpcEndpoint.replace(/\./g, '\\.')} \\(14 UNAVAILABLE.*\\); will keep retrying quietly`),
    );

    s.unavailable = false;
    // The failed log record was kept and goes out with the next one; metrics are cumulative and catch up.
    t.sinkFor('logs').consume(connEvent());
    await s.waitFor(() => s.sumOf(METRIC.CONNECTION_OPENED) === 1 && s.logs().length === 2, 3000);
    const otlp = { [ATTR.OTEL_COMPONENT_NAME]: 'otlp' };
    await s.waitFor(() => s.sumOf(METRIC.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED, { ...otlp, [ATTR.ERROR_TYPE]: 'UNAVAILABLE' }) >= 3, 3000);
    // The log record whose export failed was kept and delivered: its export is counted once, delivered.
    await s.waitFor(() => s.sumOf(METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED, { ...otlp, [ATTR.ERROR_TYPE]: undefined }) === 2, 3000);
    assert.equal(s.sumOf(METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED, otlp), 2, 'no failed log export: the failed attempts were retried');
    await sleep(300);
    const infos = at('info').filter((l) => l.includes('reachable again'));
    assert.equal(infos.length, 1, lines.map((l) => l.line).join('\n'));
    assert.match(infos[0]!, new RegExp(`exporter otlp: ${s.grpcEndpoint.replace(/\./g, '\\.')} is reachable again after \\d+ failed exports`));
    assert.equal(at('warn').length, 1);
    assert.equal(at('error').length, 0);
    assert.ok(
      s.requests.some((r) => r.headers.authorization === SECRET),
      'the header was sent',
    );
  } finally {
    await t.shutdown();
    await s.stop();
  }
  for (const { line } of lines) assert.ok(!line.includes(SECRET) && !line.includes('s3cr3t'), `secret in log line: ${line}`);
});

test('nothing listening on the endpoint gives one warning naming the exporter, the URL and the error', async () => {
  const port = await closedPort();
  const exporter = otlpHttp(`http://127.0.0.1:${port}`, 'proto', { id: 'otlphttp/backup', headers: { 'x-api-key': SECRET }, timeout_ms: 150 });
  const t = createTelemetry(agentConfig({ exporters: [exporter], intervalMs: 200, signals: ['metrics'] }));
  try {
    t.sinkFor('metrics').consume(connEvent());
    await sleep(1000);
    const warnings = at('warn');
    assert.equal(warnings.length, 1, lines.map((l) => l.line).join('\n'));
    assert.ok(warnings[0].includes(`exporter otlphttp/backup (metrics): cannot reach http://127.0.0.1:${port}/v1/metrics (`), warnings[0]);
    assert.match(warnings[0], /ECONNREFUSED/);
  } finally {
    await t.shutdown();
  }
  for (const { line } of lines) assert.ok(!line.includes(SECRET), `secret in log line: ${line}`);
});

test('shutdown with a dead collector returns within its time bound', async () => {
  const port = await closedPort();
  const t = createTelemetry(agentConfig({ exporters: [otlpGrpc(`127.0.0.1:${port}`, { timeout_ms: 10_000 })], intervalMs: 60_000 }), {
    shutdownTimeoutMs: 500,
  });
  t.sinkFor('metrics').consume(connEvent());
  const started = Date.now();
  await t.shutdown();
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});
