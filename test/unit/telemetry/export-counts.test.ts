// What the otel.sdk.* self-metrics count: each record's export once, when it ends (delivered or
// given up), whatever the attempts; records handed over and turned away; and the error.type of a
// failed export, low in cardinality.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { ExportError } from '../../../src/errors';
import { exportErrorType } from '../../../src/telemetry/export-health';
import { QUEUE_FULL, RetainingLogExporter } from '../../../src/telemetry/log-queue';
import { AgentSelfStats, type ExportCounts } from '../../../src/telemetry/self-stats';
import { rootLogger, setLogSink } from '../../../src/log';

test('a failed export is named by its gRPC status, its HTTP status, its netwatch code or its class, else _OTHER', () => {
  const grpcError = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: status.UNAVAILABLE, details: '', metadata: new Metadata() });
  assert.equal(exportErrorType(grpcError), 'UNAVAILABLE');
  assert.equal(exportErrorType(new OTLPExporterError('Service Unavailable', 503)), '503');
  assert.equal(exportErrorType(new OTLPExporterError('Export failed with retryable status')), 'OTLPExporterError');
  assert.equal(exportErrorType(new ExportError('the previous export has not answered yet')), 'NETWATCH_ERR_EXPORT');
  assert.equal(exportErrorType(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), 'TimeoutError');
  assert.equal(exportErrorType(new Error('Concurrent export limit reached')), '_OTHER');
  assert.equal(exportErrorType(undefined), '_OTHER');
});

/** An exporter that answers each export with the next result of `script` (success once it runs out). */
class ScriptedExporter implements LogRecordExporter {
  readonly sent: number[] = [];
  constructor(private readonly script: ExportResult[]) {}
  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.sent.push(logs.length);
    done(this.script.shift() ?? { code: ExportResultCode.SUCCESS });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** An exporter whose answers the test gives, one export at a time. */
class HeldExporter implements LogRecordExporter {
  readonly waiting: ((r: ExportResult) => void)[] = [];
  export(_logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.waiting.push(done);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function recorder(): ExportCounts & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    exported: (n, errorType) => log.push(`exported ${n}${errorType ? ` ${errorType}` : ''}`),
    processed: (n) => log.push(`processed ${n}`),
    dropped: (n) => log.push(`dropped ${n}`),
    givenUp: (n, errorType) => log.push(`given up ${n} ${errorType}`),
  };
}

const records = (n: number): ReadableLogRecord[] => Array.from({ length: n }, () => ({}) as ReadableLogRecord);
const unavailable: ExportResult = { code: ExportResultCode.FAILED, error: new OTLPExporterError('Service Unavailable', 503) };
const exportOnce = (e: LogRecordExporter, logs: ReadableLogRecord[]) => new Promise<ExportResult>((r) => e.export(logs, r));

test('a record whose first export failed is counted once, delivered, when the next export carries it', async () => {
  const counts = recorder();
  const inner = new ScriptedExporter([unavailable]);
  const e = new RetainingLogExporter(inner, 10, counts);
  assert.equal((await exportOnce(e, records(3))).code, ExportResultCode.FAILED);
  assert.equal((await exportOnce(e, records(2))).code, ExportResultCode.SUCCESS);
  await e.shutdown();
  assert.deepEqual(inner.sent, [3, 5], 'the kept records went out again, first');
  assert.deepEqual(counts.log, ['processed 3', 'processed 2', 'exported 5']);
});

test('records with no room to be kept are given up: queue_full when never sent', async () => {
  const counts = recorder();
  const e = new RetainingLogExporter(new ScriptedExporter([unavailable, unavailable]), 4, counts);
  await exportOnce(e, records(3)); // fails: 3 kept
  await exportOnce(e, records(3)); // 1 more fits, 2 turned away; the 4 kept fail again
  await e.shutdown();
  assert.deepEqual(counts.log, ['processed 3', 'processed 3', `given up 2 ${QUEUE_FULL}`]);
  assert.equal(e.retained, 4, 'still kept for the next attempt, not counted yet');
});

test('records pushed out of the backlog by a failed attempt are given up with that failure', async () => {
  const counts = recorder();
  const inner = new HeldExporter();
  const e = new RetainingLogExporter(inner, 4, counts);
  const first = exportOnce(e, records(3)); // in flight
  assert.equal((await exportOnce(e, records(3))).code, ExportResultCode.FAILED, 'kept while the first is in flight');
  inner.waiting.shift()!(unavailable); // the 3 in flight come back in front: 6 kept, room for 4
  await first;
  await e.shutdown();
  assert.deepEqual(counts.log, ['processed 3', 'processed 3', 'given up 2 503']);
  assert.equal(e.retained, 4);
});

test('records given up on either path are counted as exports that failed, with one warning per exporter', () => {
  const warnings: string[] = [];
  setLogSink((line, level) => {
    if (level === 'warn') warnings.push(line);
  });
  try {
    const stats = new AgentSelfStats(rootLogger, 100);
    const counts = stats.exportCounts('otlp', 'logs', 'otlp_grpc_log_exporter');
    counts.givenUp(2, QUEUE_FULL);
    counts.givenUp(3, '503');
    counts.dropped(1);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /exporter otlp \(logs\): more than \d+ log records wait for export; the excess is dropped/);
  } finally {
    setLogSink((line) => process.stderr.write(line + '\n'));
  }
});
