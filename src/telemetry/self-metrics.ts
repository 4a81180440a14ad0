// The agent's own health as metrics: ring-buffer reads, losses and decode errors per probe (from a
// stats provider the runner installs), export failures per exporter and cardinality-limit hits.
import type { Meter } from '@opentelemetry/api';
import { ATTR, METRIC, METRICS, type MetricName } from '../catalogue/generated';
import { createObservable } from './instruments';

import type { ProbeStats } from '../kernel/probe-stats';

export type { ProbeStats };
export interface AgentStats {
  probes: Record<string, ProbeStats>;
  exports: Record<string, { failures: number }>;
}
export type StatsProvider = () => AgentStats;

export interface SelfMetricsSources {
  stats: () => AgentStats | undefined;
  /** Failed exports counted by the exporter wrappers, by exporter id. */
  exportFailures: ReadonlyMap<string, number>;
  /** Log records turned away because an exporter's queue was full, by exporter id. */
  logRecordsDropped: ReadonlyMap<string, number>;
  /** Measurements folded into overflow series, by metric name. */
  cardinalityHits: ReadonlyMap<string, number>;
}

export function registerSelfMetrics(meter: Meter, src: SelfMetricsSources): void {
  const counter = (name: MetricName) => createObservable(meter, METRICS[name]);
  const read = counter(METRIC.AGENT_EVENTS_READ);
  const lost = counter(METRIC.AGENT_EVENTS_LOST);
  const decodeErrors = counter(METRIC.AGENT_EVENTS_DECODE_ERRORS);
  const exportFailures = counter(METRIC.AGENT_EXPORT_FAILURES);
  const hits = counter(METRIC.AGENT_CARDINALITY_LIMIT_HITS);
  const logsDropped = counter(METRIC.AGENT_LOG_RECORDS_DROPPED);
  meter.addBatchObservableCallback((o) => {
    const stats = src.stats();
    for (const [probe, p] of Object.entries(stats?.probes ?? {})) {
      const attrs = { [ATTR.PROBE]: probe };
      o.observe(read, p.read, attrs);
      o.observe(lost, p.lost, attrs);
      o.observe(decodeErrors, p.decodeErrors, attrs);
    }
    // Our wrappers count every exporter; a provider may add exporters we do not run (it never overrides ours).
    const failures = new Map(Object.entries(stats?.exports ?? {}).map(([id, e]) => [id, e.failures]));
    for (const [id, n] of src.exportFailures) failures.set(id, n);
    for (const [id, n] of failures) o.observe(exportFailures, n, { [ATTR.EXPORTER]: id });
    for (const [metric, n] of src.cardinalityHits) o.observe(hits, n, { [ATTR.METRIC_NAME]: metric });
    for (const [id, n] of src.logRecordsDropped) o.observe(logsDropped, n, { [ATTR.EXPORTER]: id });
  }, [read, lost, decodeErrors, exportFailures, hits, logsDropped]);
}
