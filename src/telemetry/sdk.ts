// Builds the OpenTelemetry SDK from the configuration and hands the agent one handle over it.
import type { AgentConfig } from '../config/types';
import { InternalError } from '../errors';
import { type Logger, rootLogger } from '../log';
import type { EventSink } from '../pipeline/event';
import type { ProcessorTelemetry } from '../pipeline/processor-telemetry';
import pkg from '../../package.json';
import { SCHEMA_URL } from '../catalogue/generated';
import { TelemetryContext } from './context';
import type { WriteLine } from './debug';
import { routeDiagnostics } from './diag';
import type { ExporterStatus } from './export-health';
import { buildLogsPipeline, type LogsPipeline } from './logs-pipeline';
import { buildMetricsPipeline, type MetricsPipeline, PullExporters } from './metrics-pipeline';
import { processorTelemetry } from './processor-telemetry';
import { buildResource } from './resource';
import { AgentSelfStats } from './self-stats';
import type { StatsProvider } from './self-metrics';
import type { PipelineCarry } from './sources';

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

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * The SDK for one configuration: a metrics pipeline (metrics-pipeline.ts) or a logs pipeline
 * (logs-pipeline.ts) per service pipeline, and the agent's self-stats (self-stats.ts) they share.
 */
export function createTelemetry(cfg: AgentConfig, opts: TelemetryOptions = {}): Telemetry {
  const log = opts.log ?? rootLogger.child('telemetry');
  const secrets = Object.values(cfg.exporters).flatMap((e) => ('metrics' in e ? [e.metrics, e.logs].flatMap((s) => Object.values(s.headers)) : []));
  routeDiagnostics(log, secrets, cfg.service.telemetry.sdk_log_level);
  const limit = cfg.service.telemetry.metrics.cardinality_limit;
  const resource = buildResource(cfg.service.telemetry, opts.machineIdPath);
  // The names follow the semantic conventions of this schema (otel/catalogue.yaml semconv_version).
  const scope = { name: 'netwatch', version: pkg.version, schemaUrl: SCHEMA_URL };
  const timeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const self = new AgentSelfStats(log, limit);
  const ctx = new TelemetryContext(cfg, resource, scope, log, self, opts.debugWrite);
  const pull = new PullExporters();

  const sinks = new Map<string, EventSink>();
  const metrics = new Map<string, MetricsPipeline>();
  const logs = new Map<string, LogsPipeline>();
  for (const p of cfg.service.pipelines) {
    switch (p.signal) {
      case 'metrics': {
        const mp = buildMetricsPipeline(ctx, p, pull, opts.carry?.get(p.id));
        metrics.set(p.id, mp);
        sinks.set(p.id, mp.router);
        break;
      }
      case 'logs': {
        const lp = buildLogsPipeline(ctx, p);
        logs.set(p.id, lp);
        sinks.set(p.id, lp.sink);
        break;
      }
      default:
        throw new InternalError(`pipeline ${p.id}: unknown signal`);
    }
  }

  const providers = [...[...metrics.values()].map((m) => m.provider), ...[...logs.values()].map((l) => l.provider)];
  let stopped: Promise<void> | undefined;
  return {
    sinkFor(pipelineId) {
      const s = sinks.get(pipelineId);
      if (!s) throw new InternalError(`no telemetry pipeline named ${pipelineId}`);
      return s;
    },
    forProcessor(processorId) {
      const listing = cfg.service.pipelines.filter((p) => p.processors.includes(processorId));
      return processorTelemetry(
        listing.flatMap((p) => (metrics.has(p.id) ? [metrics.get(p.id)!.handle] : [])),
        listing.flatMap((p) => (logs.has(p.id) ? [logs.get(p.id)!.logger] : [])),
        limit,
        self.onOverflow,
      );
    },
    exporterStatus() {
      return [...[...ctx.healths.values()].map((h) => h.status()), ...[...pull.status.values()].map((s) => ({ ...s }))];
    },
    carryState() {
      return new Map([...metrics].map(([id, m]) => [id, m.router.state()]));
    },
    setStatsProvider(fn) {
      self.setStatsProvider(fn);
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
