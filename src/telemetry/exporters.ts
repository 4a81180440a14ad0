// ExporterConfig → SDK exporters (one switch per signal, exhaustive over the union).
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { MetricProducer, MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ExporterConfig, HistogramAggregation, OtlpSignalSettings, TemporalityPreference } from '../config/types';
import { InternalError } from '../errors';
import { DebugLogExporter, DebugMetricExporter, type WriteLine } from './debug';
import { grpcLogExporter, grpcMetricExporter, httpLogExporter, httpMetricExporter } from './otlp-exporters';

export interface ExporterOptions {
  /** Where the debug exporter writes (stdout unless a test captures it). */
  debugWrite?: WriteLine;
}

/**
 * A push exporter fed by a periodic reader, or a pull reader of its own (Prometheus). `componentType`
 * is its otel.component.type: the conventions' name for the OTLP exporters, the class name otherwise
 * (as the conventions ask for types they do not name).
 */
export type MetricSink =
  | {
      kind: 'push';
      exporter: PushMetricExporter;
      endpoint: string;
      timeoutMs: number;
      secrets: string[];
      temporality: TemporalityPreference;
      /** Explicit or base-2 exponential buckets, for the SDK's histograms and netwatch's own alike. */
      histogramAggregation: HistogramAggregation;
      componentType: string;
    }
  | { kind: 'pull'; endpoint: string; createReader(producers: MetricProducer[], events: PullEvents): MetricReader };

/** What a pull endpoint reports: listening (or why not) and each scrape. */
export interface PullEvents {
  onListening(): void;
  onListenError(error: Error): void;
  onScrape(): void;
}

export interface LogSink {
  exporter: LogRecordExporter;
  endpoint: string;
  timeoutMs: number;
  secrets: string[];
  /** otel.component.type, as for MetricSink. */
  componentType: string;
}

/** otel.component.type of the OTLP/HTTP exporters (JSON has names of its own). */
const httpType = (encoding: 'proto' | 'json', signal: 'metric' | 'log'): string => `otlp_http_${encoding === 'json' ? 'json_' : ''}${signal}_exporter`;

const secretsOf = (s: OtlpSignalSettings): string[] => Object.values(s.headers);

export function buildMetricSink(cfg: ExporterConfig, opts: ExporterOptions = {}): MetricSink {
  switch (cfg.type) {
    case 'otlp': {
      const m = cfg.metrics;
      return {
        kind: 'push',
        exporter: grpcMetricExporter(m, cfg.temporality, cfg.histogram_aggregation),
        endpoint: m.endpoint,
        timeoutMs: m.timeout_ms,
        secrets: secretsOf(m),
        temporality: cfg.temporality,
        histogramAggregation: cfg.histogram_aggregation,
        componentType: 'otlp_grpc_metric_exporter',
      };
    }
    case 'otlphttp': {
      const m = cfg.metrics;
      return {
        kind: 'push',
        exporter: httpMetricExporter(m, cfg.temporality, cfg.histogram_aggregation),
        endpoint: m.endpoint,
        timeoutMs: m.timeout_ms,
        secrets: secretsOf(m),
        temporality: cfg.temporality,
        histogramAggregation: cfg.histogram_aggregation,
        componentType: httpType(m.encoding, 'metric'),
      };
    }
    case 'debug':
      return {
        kind: 'push',
        exporter: new DebugMetricExporter(cfg.verbosity, opts.debugWrite),
        endpoint: 'stdout',
        timeoutMs: 5000,
        secrets: [],
        temporality: 'delta',
        histogramAggregation: 'explicit_bucket_histogram',
        componentType: DebugMetricExporter.name,
      };
    case 'prometheus':
      return {
        kind: 'pull',
        endpoint: `${cfg.host}:${cfg.port}`,
        createReader: (producers, events) => {
          // Every scrape collects from the producers once: counting there counts scrapes.
          const counted: MetricProducer[] = producers.map((p, i) => ({
            collect: (o) => {
              if (i === 0) events.onScrape();
              return p.collect(o);
            },
          }));
          // Started here rather than by the constructor, so that a port in use is reported, not only diag-logged.
          const exp = new PrometheusExporter({ host: cfg.host, port: cfg.port, metricProducers: counted, preventServerStart: true });
          exp.startServer().then(
            () => events.onListening(),
            (e: Error) => events.onListenError(e),
          );
          // The exporter brings its own nested copy of sdk-metrics; readers are duck-typed at runtime.
          return exp;
        },
      };
    default:
      return unreachable(cfg);
  }
}

export function buildLogSink(cfg: ExporterConfig, opts: ExporterOptions = {}): LogSink {
  switch (cfg.type) {
    case 'otlp':
      return {
        exporter: grpcLogExporter(cfg.logs),
        endpoint: cfg.logs.endpoint,
        timeoutMs: cfg.logs.timeout_ms,
        secrets: secretsOf(cfg.logs),
        componentType: 'otlp_grpc_log_exporter',
      };
    case 'otlphttp':
      return {
        exporter: httpLogExporter(cfg.logs),
        endpoint: cfg.logs.endpoint,
        timeoutMs: cfg.logs.timeout_ms,
        secrets: secretsOf(cfg.logs),
        componentType: httpType(cfg.logs.encoding, 'log'),
      };
    case 'debug':
      return {
        exporter: new DebugLogExporter(cfg.verbosity, opts.debugWrite),
        endpoint: 'stdout',
        timeoutMs: 5000,
        secrets: [],
        componentType: DebugLogExporter.name,
      };
    case 'prometheus':
      throw new InternalError(`exporter ${cfg.id}: prometheus exports metrics only; remove it from logs pipelines`);
    default:
      return unreachable(cfg);
  }
}

function unreachable(cfg: never): never {
  throw new InternalError(`unknown exporter type ${JSON.stringify((cfg as { type: unknown }).type)}`);
}
