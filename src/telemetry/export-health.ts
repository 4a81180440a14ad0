// Wraps exporters so an unreachable collector is reported once (warn), then retried quietly
// (debug), with one info line when it answers again; and so each metric export is counted, with
// the conventions' error.type when it failed.
import { status as grpcStatus } from '@grpc/grpc-js';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ExportError, NetwatchError } from '../errors';
import type { Logger } from '../log';
import type { ExportCounts } from './self-stats';

export interface ExportTarget {
  /** Component id from agent.yaml. */
  id: string;
  signal: 'metrics' | 'logs';
  /** Where it sends (host:port, URL, stdout); never carries credentials. */
  endpoint: string;
  /** Header values and other secrets to scrub from error messages. */
  secrets: readonly string[];
}

/** What /health shows of one exporter (per signal). Errors are scrubbed of secrets. */
export interface ExporterStatus {
  id: string;
  signal: 'metrics' | 'logs';
  endpoint: string;
  /** unknown: nothing exported yet; ok: the last export succeeded; failing: it failed; serving/failed: a pull (prometheus) endpoint. */
  state: 'unknown' | 'ok' | 'failing' | 'serving' | 'failed';
  exports: number;
  failures: number;
  lastSuccessUnixMs?: number;
  lastError?: { message: string; timeUnixMs: number };
}

/**
 * What the signals of one exporter share: an unreachable collector is one outage, reported by one
 * warning when the first signal fails and one info line when the last one gets through again.
 */
export class ExporterOutage {
  readonly failing = new Set<string>();
  failedExports = 0;
}

export class ExportHealth {
  private failing = false;
  private exports = 0;
  private failures = 0;
  private lastSuccessUnixMs?: number;
  private lastError?: { message: string; timeUnixMs: number };

  constructor(
    readonly target: ExportTarget,
    private readonly log: Logger,
    private readonly outage: ExporterOutage = new ExporterOutage(),
  ) {}

  status(): ExporterStatus {
    const { id, signal, endpoint } = this.target;
    const state = this.exports === 0 ? 'unknown' : this.failing ? 'failing' : 'ok';
    return {
      id,
      signal,
      endpoint,
      state,
      exports: this.exports,
      failures: this.failures,
      lastSuccessUnixMs: this.lastSuccessUnixMs,
      lastError: this.lastError,
    };
  }

  record(result: ExportResult): void {
    const { id, signal, endpoint } = this.target;
    const outage = this.outage;
    this.exports++;
    if (result.code === ExportResultCode.SUCCESS) {
      this.lastSuccessUnixMs = Date.now();
      if (this.failing) {
        this.failing = false;
        outage.failing.delete(signal);
        if (outage.failing.size === 0) {
          this.log.info(`exporter ${id}: ${endpoint} is reachable again after ${outage.failedExports} failed exports`);
          outage.failedExports = 0;
        }
      }
      return;
    }
    this.failures++;
    outage.failedExports++;
    const reason = this.describe(result.error);
    this.lastError = { message: reason, timeUnixMs: Date.now() };
    if (this.failing || outage.failing.size > 0) {
      this.failing = true;
      outage.failing.add(signal);
      this.log.debug(`exporter ${id} (${signal}): export to ${endpoint} failed again (${reason})`);
      return;
    }
    this.failing = true;
    outage.failing.add(signal);
    this.log.warn(`exporter ${id} (${signal}): cannot reach ${endpoint} (${reason}); will keep retrying quietly`);
  }

  describe(error: unknown): string {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- not an Error: whatever the exporter rejected with, String() is all there is to show
    let msg = error instanceof Error ? error.message : error === undefined ? 'export failed' : String(error);
    msg = msg.split('\n')[0]!; // split always gives a first part
    for (const s of this.target.secrets) if (s.length > 0) msg = msg.split(s).join('***');
    return msg;
  }
}

/**
 * The conventions' error.type of a failed export (low cardinality): the gRPC status name
 * (`UNAVAILABLE`), the HTTP status (`503`), netwatch's error code (`NETWATCH_ERR_EXPORT`), the
 * error class (`OTLPExporterError`, `TimeoutError`), else `_OTHER`.
 */
export function exportErrorType(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER';
  if (error instanceof NetwatchError) return error.code;
  const code = (error as { code?: unknown }).code;
  // grpc-js ServiceError: a status code with metadata.
  if (typeof code === 'number' && 'metadata' in error) return grpcStatus[code] ?? String(code);
  // OTLPExporterError from the HTTP transport: the response's status.
  if (typeof code === 'number' && code >= 100 && code < 600) return String(code);
  return error.name && error.name !== 'Error' ? error.name : '_OTHER';
}

/** Data points in one export (what otel.sdk.exporter.metric_data_point.exported counts). */
export function dataPoints(metrics: ResourceMetrics): number {
  let n = 0;
  for (const sm of metrics.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

/**
 * One export at a time: the SDK's reader starts a collection every interval even when the last
 * export has not answered (a hung collector), and its own timeout only stops waiting. A collection
 * that finds one in flight is skipped — counted as a failure; the next cumulative one carries it.
 * Each export's data points are counted once it ends (the SDK's exporter retries inside it).
 */
export function watchMetricExporter(
  inner: PushMetricExporter,
  health: ExportHealth,
  counts: Pick<ExportCounts, 'exported'>,
  onExport?: (m: ResourceMetrics) => void,
): PushMetricExporter {
  let inFlight = false;
  return {
    export(metrics, done) {
      const points = dataPoints(metrics);
      const count = (r: ExportResult): void => counts.exported(points, r.code === ExportResultCode.SUCCESS ? undefined : exportErrorType(r.error));
      if (inFlight) {
        const r = {
          code: ExportResultCode.FAILED,
          error: new ExportError(`the previous export to ${health.target.endpoint} has not answered yet; this collection is skipped`),
        };
        health.record(r);
        count(r);
        return done(r);
      }
      inFlight = true;
      onExport?.(metrics);
      const finish = (r: ExportResult): void => {
        inFlight = false;
        health.record(r);
        count(r);
        done(r);
      };
      try {
        inner.export(metrics, finish);
      } catch (error) {
        finish({ code: ExportResultCode.FAILED, error: error as Error });
      }
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}

export function watchLogExporter(inner: LogRecordExporter, health: ExportHealth): LogRecordExporter {
  return {
    export(logs: ReadableLogRecord[], done) {
      const finish = (r: ExportResult): void => {
        health.record(r);
        done(r);
      };
      try {
        inner.export(logs, finish);
      } catch (error) {
        finish({ code: ExportResultCode.FAILED, error: error as Error });
      }
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
}
