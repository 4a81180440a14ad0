import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { type LogLevel, setLogSink } from '../../../src/log';
import { ATTR, METRIC } from '../../../src/catalogue/generated';
import { LOG_QUEUE_CAPACITY, QUEUE_FULL } from '../../../src/telemetry/log-queue';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, otlpGrpc } from './fixtures';

const lines: { line: string; level: LogLevel }[] = [];
setLogSink((line, level) => lines.push({ line, level }));

/** A TCP server that accepts and never answers: every export to it hangs until its timeout. */
async function silentCollector(): Promise<{ endpoint: string; close(): void }> {
  const sockets: Socket[] = [];
  const srv = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

test('log records beyond what an exporter can queue are counted as dropped, with one warning, never lost silently', async () => {
  const sink = await OtlpSink.start();
  const hung = await silentCollector();
  const cfg = agentConfig({ exporters: [otlpGrpc(sink.grpcEndpoint, { id: 'otlp/good' }), otlpGrpc(hung.endpoint, { id: 'otlp/hung', timeout_ms: 30_000 })] });
  const pipelines = cfg.service.pipelines.map((p) => ({ ...p, exporters: [p.signal === 'metrics' ? 'otlp/good' : 'otlp/hung'] }));
  const t = createTelemetry({ ...cfg, service: { ...cfg.service, pipelines } }, { shutdownTimeoutMs: 500 });
  const extra = 952;
  try {
    for (let i = 0; i < LOG_QUEUE_CAPACITY + extra; i++) t.sinkFor('logs').consume(connEvent());
    const processed = (errorType?: string) =>
      sink.sumOf(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, {
        [ATTR.OTEL_COMPONENT_NAME]: 'otlp/hung',
        [ATTR.OTEL_COMPONENT_TYPE]: 'batching_log_processor',
        [ATTR.ERROR_TYPE]: errorType,
      });
    await sink.waitFor(() => processed(QUEUE_FULL) === extra, 5000);
    const warnings = lines.filter((l) => l.level === 'warn' && l.line.includes('wait for export'));
    assert.equal(warnings.length, 1, lines.map((l) => l.line).join('\n'));
  } finally {
    await t.shutdown();
    hung.close();
    await sink.stop();
  }
});

test('an exporter that keeps up delivers a full queue of log records and drops none', async () => {
  const sink = await OtlpSink.start();
  const t = createTelemetry(agentConfig({ exporters: [otlpGrpc(sink.grpcEndpoint)] }));
  try {
    for (let i = 0; i < LOG_QUEUE_CAPACITY; i++) t.sinkFor('logs').consume(connEvent());
    await sink.waitFor(() => sink.logs().length === LOG_QUEUE_CAPACITY, 5000);
    // Once those exports settled, the queue has room again.
    for (let i = 0; i < 10; i++) t.sinkFor('logs').consume(connEvent());
    await sink.waitFor(() => sink.logs().length === LOG_QUEUE_CAPACITY + 10, 5000);
    await t.forceFlush();
    const n = LOG_QUEUE_CAPACITY + 10;
    const name = { [ATTR.OTEL_COMPONENT_NAME]: 'otlp' };
    await sink.waitFor(() => sink.sumOf(METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED, name) === n, 5000);
    assert.equal(sink.sumOf(METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED, { ...name, [ATTR.ERROR_TYPE]: undefined }), n, 'every record delivered');
    assert.equal(sink.sumOf(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, { ...name, [ATTR.ERROR_TYPE]: undefined }), n, 'every record handed over');
    assert.equal(sink.sumOf(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, { ...name, [ATTR.ERROR_TYPE]: QUEUE_FULL }), 0);
  } finally {
    await t.shutdown();
    await sink.stop();
  }
});
