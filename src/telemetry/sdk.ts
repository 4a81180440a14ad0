// Builds the OpenTelemetry SDK from the configuration: per metrics pipeline a MeterProvider with one
// reader per exporter, per logs pipeline a LoggerProvider with one batch processor per exporter.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import { LoggerProvider, BatchLogRecordProcessor, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, type MetricReader, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { AgentConfig, PipelineConfig, ReceiverConfig } from '../config/types';
import { NetwatchError } from '../errors';
import { type Logger, rootLogger } from '../log';
import type { EventSink } from '../pipeline/event';
import pkg from '../../package.json';
import { OVERFLOW_ATTRIBUTES } from './aggregate';
import type { WriteLine } from './debug';
import { routeDiagnostics } from './diag';
import { DeltaHistograms } from './delta-producer';
import { ExportHealth, type ExporterStatus, watchLogExporter, watchMetricExporter } from './export-health';
import { buildLogSink, buildMetricSink } from './exporters';
import { HistogramProducer } from './histogram-producer';
import { type MetricsPipelineHandle, processorTelemetry, type ProcessorTelemetry } from './processor-telemetry';
import { buildResource } from './resource';
import { BoundedLogProcessor, LOG_QUEUE_CAPACITY, settleExports } from './log-queue';
import { type AgentStats, registerSelfMetrics, type StatsProvider } from './self-metrics';
import { buildLogSources, buildMetricSources, type MetricsRouter, type PipelineCarry } from './sources';

export interface Telemetry {
  /** The sink at the end of a pipeline (metrics or logs, per the pipeline's signal). */
  sinkFor(pipelineId: string): EventSink;
  /** A processor's own telemetry, exported by the pipelines that list it. */
  forProcessor(processorId: string): ProcessorTelemetry;
  setStatsProvider(fn: StatsProvider): void;
  forceFlush(): Promise<void>;
  /** Flushes once and stops; resolves within `shutdownTimeoutMs` even if a collector hangs. */
  shutdown(): Promise<void>;
  /** Aggregation state by metrics pipeline id, for the next incarnation after a reload. */
  carryState(): TelemetryState;
  /** Per exporter and signal: reachable or not, counts, the last error (for /health). */
  exporterStatus(): ExporterStatus[];
}

/** Metrics pipeline id → the cumulative state of its sinks. */
export type TelemetryState = ReadonlyMap<string, PipelineCarry>;

export interface TelemetryOptions {
  log?: Logger;
  /** Where debug exporters write (tests capture it). */
  debugWrite?: WriteLine;
  shutdownTimeoutMs?: number;
  machineIdPath?: string;
  /** Cumulative state of the previous configuration's pipelines (hot reload), by pipeline id. */
  carry?: TelemetryState;
}

const OVERFLOW_KEY = Object.keys(OVERFLOW_ATTRIBUTES)[0];
// Log batches go out at least this often; shorter when the metrics interval is (tests).
const MAX_LOG_DELAY_MS = 1000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

export function createTelemetry(cfg: AgentConfig, opts: TelemetryOptions = {}): Telemetry {
  const log = opts.log ?? rootLogger.child('telemetry');
  const secrets = Object.values(cfg.exporters).flatMap((e) => ('metrics' in e ? [e.metrics, e.logs].flatMap((s) => Object.values(s.headers)) : []));
  routeDiagnostics(log, secrets, cfg.service.telemetry.sdk_log_level);
  const { export_interval_ms: interval, cardinality_limit: limit } = cfg.service.telemetry.metrics;
  const resource = buildResource(cfg.service.telemetry, opts.machineIdPath);
  const scope = { name: 'netwatch', version: pkg.version };
  const timeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  let stats: StatsProvider | undefined;
  const exportFailures = new Map<string, number>();
  const logRecordsDropped = new Map<string, number>();
  const onLogDrop = (id: string): void => {
    const n = (logRecordsDropped.get(id) ?? 0) + 1;
    logRecordsDropped.set(id, n);
    if (n === 1) {
      log.warn(`exporter ${id} (logs): more than ${LOG_QUEUE_CAPACITY} log records wait for export; the excess is dropped and counted ` +
        'in netwatch.agent.log_records.dropped (lower the receivers\' logs.max_per_second or sampling_ratio)');
    }
  };
  const cardinalityHits = new Map<string, number>();
  const warnedOverflow = new Set<string>();
  const warnOverflow = (metric: string): void => {
    if (warnedOverflow.has(metric)) return;
    warnedOverflow.add(metric);
    log.warn(`metric ${metric} reached the cardinality limit of ${limit} attribute sets; new sets are folded into ${OVERFLOW_KEY}=true ` +
      '(raise service.telemetry.metrics.cardinality_limit or turn off opt-in attributes)');
  };
  const onOverflow = (metric: string): void => {
    cardinalityHits.set(metric, (cardinalityHits.get(metric) ?? 0) + 1);
    warnOverflow(metric);
  };
  // Series the SDK itself folded (instruments outside our tables) show up only in what is exported.
  const scanOverflow = (rm: ResourceMetrics): void => {
    for (const s of rm.scopeMetrics) for (const m of s.metrics) {
      if (!warnedOverflow.has(m.descriptor.name) && (m.dataPoints as { attributes: Record<string, unknown> }[]).some((p) => p.attributes[OVERFLOW_KEY] === true)) {
        warnOverflow(m.descriptor.name);
      }
    }
  };
  const onFailure = (id: string): void => {
    exportFailures.set(id, (exportFailures.get(id) ?? 0) + 1);
  };
  const healths = new Map<string, ExportHealth>();
  const healthFor = (id: string, signal: 'metrics' | 'logs', endpoint: string, secrets: string[]): ExportHealth => {
    const key = `${signal}\0${id}`;
    let h = healths.get(key);
    if (!h) healths.set(key, (h = new ExportHealth({ id, signal, endpoint, secrets }, log, onFailure)));
    return h;
  };

  const exporterConfig = (p: PipelineConfig, id: string) => {
    const e = cfg.exporters[id];
    if (!e) throw new NetwatchError(`pipeline ${p.id}: exporter ${id} is not defined`);
    exportFailures.set(id, exportFailures.get(id) ?? 0);
    return e;
  };
  // OTEL_SDK_DISABLED: the pipelines run (the query API reads them) but export nowhere.
  const exportersOf = (p: PipelineConfig): readonly string[] => (cfg.service.telemetry.sdk_disabled ? [] : p.exporters);
  const receiversOf = (p: PipelineConfig): ReceiverConfig[] => p.receivers.map((id) => cfg.receivers[id]).filter((r) => r !== undefined);

  const sinks = new Map<string, EventSink>();
  const metricRouters = new Map<string, MetricsRouter>();
  const meterProviders: MeterProvider[] = [];
  const loggerProviders: LoggerProvider[] = [];
  const pullReaders = new Set<string>();
  const meterHandles = new Map<string, MetricsPipelineHandle>();
  const loggers = new Map<string, OtelLogger>();
  const pullStatus = new Map<string, ExporterStatus>();

  for (const p of cfg.service.pipelines) {
    switch (p.signal) {
      case 'metrics': {
        const producer = new HistogramProducer(resource, scope);
        const readers: MetricReader[] = exportersOf(p).map((id) => {
          const sink = buildMetricSink(exporterConfig(p, id), { debugWrite: opts.debugWrite });
          if (sink.kind === 'pull') {
            // A pull exporter owns a listening socket: it can serve one pipeline only.
            if (pullReaders.has(id)) throw new NetwatchError(`exporter ${id}: a prometheus exporter can serve only one metrics pipeline`);
            pullReaders.add(id);
            const st: ExporterStatus = { id, signal: 'metrics', endpoint: `http://${sink.endpoint}/metrics`, state: 'unknown', exports: 0, failures: 0 };
            pullStatus.set(id, st);
            return sink.createReader([producer], {
              onListening: () => {
                st.state = 'serving';
                log.info(`exporter ${id}: serving metrics at ${st.endpoint}`);
              },
              onListenError: (e) => {
                st.state = 'failed';
                st.lastError = { message: `cannot listen on ${sink.endpoint}: ${e.message}`, timeUnixMs: Date.now() };
                log.error(`exporter ${id}: ${st.lastError.message}`);
              },
              onScrape: () => {
                st.exports++;
                st.lastSuccessUnixMs = Date.now();
              },
            });
          }
          const health = healthFor(id, 'metrics', sink.endpoint, sink.secrets);
          return new PeriodicExportingMetricReader({
            exporter: watchMetricExporter(sink.exporter, health, scanOverflow),
            exportIntervalMillis: interval,
            exportTimeoutMillis: Math.min(sink.timeoutMs, interval, cfg.service.telemetry.metrics.export_timeout_ms),
            cardinalityLimits: { default: limit },
            metricProducers: [sink.temporality === 'cumulative' ? producer : new DeltaHistograms(producer)],
          });
        });
        const mp = new MeterProvider({ resource, readers });
        meterProviders.push(mp);
        const meter = mp.getMeter(scope.name, scope.version);
        meterHandles.set(p.id, { meter, producer });
        const router = buildMetricSources({ meter, producer, cardinalityLimit: limit, onOverflow, log, probeStats: () => stats?.().probes ?? {} }, receiversOf(p), opts.carry?.get(p.id));
        metricRouters.set(p.id, router);
        sinks.set(p.id, router);
        registerSelfMetrics(meter, { stats: (): AgentStats | undefined => stats?.(), exportFailures, cardinalityHits, logRecordsDropped });
        break;
      }
      case 'logs': {
        const processors: LogRecordProcessor[] = exportersOf(p).map((id) => {
          const sink = buildLogSink(exporterConfig(p, id), { debugWrite: opts.debugWrite });
          const health = healthFor(id, 'logs', sink.endpoint, sink.secrets);
          let bounded: BoundedLogProcessor | undefined = undefined;
          const batch = new BatchLogRecordProcessor({
            exporter: settleExports(watchLogExporter(sink.exporter, health), sink.timeoutMs, (n) => bounded?.settled(n)),
            scheduledDelayMillis: Math.min(MAX_LOG_DELAY_MS, interval),
            exportTimeoutMillis: sink.timeoutMs,
            maxQueueSize: LOG_QUEUE_CAPACITY,
          });
          bounded = new BoundedLogProcessor(batch, LOG_QUEUE_CAPACITY, () => onLogDrop(id));
          return bounded;
        });
        const lp = new LoggerProvider({ resource, processors });
        loggerProviders.push(lp);
        const logger = lp.getLogger(scope.name, scope.version);
        loggers.set(p.id, logger);
        sinks.set(p.id, buildLogSources(logger, receiversOf(p), log));
        break;
      }
      default:
        throw new NetwatchError(`pipeline ${(p as PipelineConfig).id}: unknown signal`);
    }
  }

  const providers = [...meterProviders, ...loggerProviders];
  let stopped: Promise<void> | undefined;
  return {
    sinkFor(pipelineId) {
      const s = sinks.get(pipelineId);
      if (!s) throw new NetwatchError(`no telemetry pipeline named ${pipelineId}`);
      return s;
    },
    forProcessor(processorId) {
      const listing = cfg.service.pipelines.filter((p) => p.processors.includes(processorId));
      return processorTelemetry(
        listing.flatMap((p) => (meterHandles.has(p.id) ? [meterHandles.get(p.id)!] : [])),
        listing.flatMap((p) => (loggers.has(p.id) ? [loggers.get(p.id)!] : [])),
        limit,
        onOverflow,
      );
    },
    exporterStatus() {
      return [...[...healths.values()].map((h) => h.status()), ...[...pullStatus.values()].map((s) => ({ ...s }))];
    },
    carryState() {
      return new Map([...metricRouters].map(([id, r]) => [id, r.state()]));
    },
    setStatsProvider(fn) {
      stats = fn;
    },
    async forceFlush() {
      const results = await Promise.allSettled(providers.map((p) => p.forceFlush()));
      for (const r of results) if (r.status === 'rejected') log.debug('flush failed', { error: r.reason });
    },
    shutdown() {
      // Provider shutdown flushes once itself; flushing before it would export twice.
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn(`telemetry did not finish flushing within ${timeoutMs} ms; giving up`);
          resolve();
        }, timeoutMs);
        timer.unref();
        void Promise.allSettled(providers.map((p) => p.shutdown())).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopped;
    },
  };
}
