// One metrics pipeline: a MeterProvider with a reader per exporter (periodic push, or Prometheus's
// own pull reader), the receivers' metric sinks on its meter, and the agent's self-metrics.
import { MeterProvider, type MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { PipelineConfig } from '../config/types';
import { ConfigError } from '../errors';
import type { TelemetryContext } from './context';
import type { ExporterStatus } from './export-health';
import { watchMetricExporter } from './export-health';
import { buildMetricSink } from './exporters';
import { DeltaHistograms } from './delta-producer';
import { HistogramProducer } from './histogram-producer';
import type { MetricsPipelineHandle } from './processor-telemetry';
import { buildMetricSources, type MetricsRouter, type PipelineCarry } from './sources';

export interface MetricsPipeline {
  readonly provider: MeterProvider;
  /** Where processors' tables are exported on this pipeline. */
  readonly handle: MetricsPipelineHandle;
  /** The receivers' sinks: the end of the pipeline. */
  readonly router: MetricsRouter;
}

/** Pull exporters (Prometheus) across the pipelines of one incarnation: each serves one pipeline. */
export class PullExporters {
  private readonly used = new Set<string>();
  readonly status = new Map<string, ExporterStatus>();

  claim(id: string): void {
    // A pull exporter owns a listening socket: it can serve one pipeline only.
    if (this.used.has(id)) throw new ConfigError([`exporter ${id}: a prometheus exporter can serve only one metrics pipeline`]);
    this.used.add(id);
  }
}

export function buildMetricsPipeline(ctx: TelemetryContext, p: PipelineConfig, pull: PullExporters, carry: PipelineCarry | undefined): MetricsPipeline {
  const { log, resource, scope, interval, cardinalityLimit: limit } = ctx;
  const producer = new HistogramProducer(resource, scope);
  const readers: MetricReader[] = ctx.exportersOf(p).map((id) => {
    const sink = buildMetricSink(ctx.exporterConfig(p, id), { debugWrite: ctx.debugWrite });
    if (sink.kind === 'pull') {
      pull.claim(id);
      const st: ExporterStatus = { id, signal: 'metrics', endpoint: `http://${sink.endpoint}/metrics`, state: 'unknown', exports: 0, failures: 0 };
      pull.status.set(id, st);
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
    const health = ctx.healthFor(id, 'metrics', sink.endpoint, sink.secrets);
    // Prometheus (above) and the debug exporter take explicit buckets; an OTLP exporter what it asks for.
    const histograms = sink.histogramAggregation === 'base2_exponential_bucket_histogram' ? producer.exponential() : producer;
    return new PeriodicExportingMetricReader({
      exporter: watchMetricExporter(sink.exporter, health, ctx.self.exportCounts(id, 'metrics', sink.componentType), ctx.self.scanOverflow),
      exportIntervalMillis: interval,
      exportTimeoutMillis: Math.min(sink.timeoutMs, interval, ctx.cfg.service.telemetry.metrics.export_timeout_ms),
      cardinalityLimits: { default: limit },
      metricProducers: [sink.temporality === 'cumulative' ? histograms : new DeltaHistograms(histograms)],
    });
  });
  const provider = new MeterProvider({ resource, readers });
  const meter = provider.getMeter(scope.name, scope.version, { schemaUrl: scope.schemaUrl });
  const router = buildMetricSources(
    { meter, producer, cardinalityLimit: limit, onOverflow: ctx.self.onOverflow, log, probeStats: ctx.self.probeStats },
    ctx.receiversOf(p),
    carry,
  );
  ctx.self.register(meter, producer);
  return { provider, handle: { meter, producer }, router };
}
