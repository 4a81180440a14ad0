// ExporterConfig → SDK exporters (one switch per signal, exhaustive over the union).
import { readFileSync } from 'node:fs';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { AggregationTemporalityPreference, OTLPMetricExporter as HttpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { MetricProducer, MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ExporterConfig, OtlpHttpExporterConfig } from '../config/types';
import { NetwatchError } from '../errors';
import { DebugLogExporter, DebugMetricExporter, type WriteLine } from './debug';
import { grpcLogExporter, grpcMetricExporter } from './grpc-transport';

export interface ExporterOptions {
  /** Where the debug exporter writes (stdout unless a test captures it). */
  debugWrite?: WriteLine;
}

/** A push exporter fed by a periodic reader, or a pull reader of its own (Prometheus). */
export type MetricSink =
  | { kind: 'push'; exporter: PushMetricExporter; endpoint: string; timeoutMs: number; secrets: string[] }
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
}

function httpOptions(cfg: OtlpHttpExporterConfig, path: '/v1/metrics' | '/v1/logs') {
  const agent: Record<string, unknown> = {};
  if (cfg.tls.ca_file) agent.ca = readFileSync(cfg.tls.ca_file);
  if (cfg.tls.cert_file) agent.cert = readFileSync(cfg.tls.cert_file);
  if (cfg.tls.key_file) agent.key = readFileSync(cfg.tls.key_file);
  if (cfg.tls.insecure_skip_verify) agent.rejectUnauthorized = false;
  if (cfg.tls.server_name_override) agent.servername = cfg.tls.server_name_override;
  return {
    url: cfg.endpoint.replace(/\/+$/, '') + path,
    headers: { ...cfg.headers },
    compression: cfg.compression as CompressionAlgorithm,
    timeoutMillis: cfg.timeout_ms,
    httpAgentOptions: agent,
  };
}

const secretsOf = (cfg: { headers: Readonly<Record<string, string>> }): string[] => Object.values(cfg.headers);

export function buildMetricSink(cfg: ExporterConfig, opts: ExporterOptions = {}): MetricSink {
  // Cumulative whatever OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE says: our histogram producer is cumulative.
  const temporalityPreference = AggregationTemporalityPreference.CUMULATIVE;
  switch (cfg.type) {
    case 'otlp':
      return { kind: 'push', exporter: grpcMetricExporter(cfg, temporalityPreference), endpoint: cfg.endpoint, timeoutMs: cfg.timeout_ms, secrets: secretsOf(cfg) };
    case 'otlphttp': {
      const o = { ...httpOptions(cfg, '/v1/metrics'), temporalityPreference };
      const exporter = cfg.encoding === 'proto' ? new HttpProtoMetricExporter(o) : new HttpJsonMetricExporter(o);
      return { kind: 'push', exporter, endpoint: o.url, timeoutMs: cfg.timeout_ms, secrets: secretsOf(cfg) };
    }
    case 'debug':
      return { kind: 'push', exporter: new DebugMetricExporter(cfg.verbosity, opts.debugWrite), endpoint: 'stdout', timeoutMs: 5000, secrets: [] };
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
          const exp = new PrometheusExporter({ host: cfg.host, port: cfg.port, metricProducers: counted as never, preventServerStart: true });
          exp.startServer().then(() => events.onListening(), (e: Error) => events.onListenError(e));
          // The exporter brings its own nested copy of sdk-metrics; readers are duck-typed at runtime.
          return exp as unknown as MetricReader;
        },
      };
    default:
      return unreachable(cfg);
  }
}

export function buildLogSink(cfg: ExporterConfig, opts: ExporterOptions = {}): LogSink {
  switch (cfg.type) {
    case 'otlp':
      return { exporter: grpcLogExporter(cfg), endpoint: cfg.endpoint, timeoutMs: cfg.timeout_ms, secrets: secretsOf(cfg) };
    case 'otlphttp': {
      const o = httpOptions(cfg, '/v1/logs');
      const exporter = cfg.encoding === 'proto' ? new HttpProtoLogExporter(o) : new HttpJsonLogExporter(o);
      return { exporter, endpoint: o.url, timeoutMs: cfg.timeout_ms, secrets: secretsOf(cfg) };
    }
    case 'debug':
      return { exporter: new DebugLogExporter(cfg.verbosity, opts.debugWrite), endpoint: 'stdout', timeoutMs: 5000, secrets: [] };
    case 'prometheus':
      throw new NetwatchError(`exporter ${cfg.id}: prometheus exports metrics only; remove it from logs pipelines`);
    default:
      return unreachable(cfg);
  }
}

function unreachable(cfg: never): never {
  throw new NetwatchError(`unknown exporter type ${JSON.stringify((cfg as { type: unknown }).type)}`);
}
