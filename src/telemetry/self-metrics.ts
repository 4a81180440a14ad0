// The agent's own health as metrics: ring-buffer reads, losses and decode errors per probe (from a
// stats provider the runner installs), export failures per exporter and cardinality-limit hits.
import { type Meter, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { ATTR, METRIC, METRICS, type MetricName } from '../catalogue/generated';
import type { HistogramProducer } from './histogram-producer';
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

/** When the agent process started: the start time of a probe that does not say its own. */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

/**
 * A probe's read/lost/decode-error counts as cumulative sums whose start time is the probe's own:
 * a receiver re-created by a reload counts from 0 again, and says so with a new start time.
 */
function probeSums(stats: () => AgentStats | undefined): SumMetricData[] {
  const probes = Object.entries(stats()?.probes ?? {});
  const endTime = millisToHrTime(Date.now());
  const sum = (name: MetricName, value: (p: ProbeStats) => number): SumMetricData => {
    const d = METRICS[name];
    return {
      descriptor: { name: d.name, description: d.description, unit: d.unit, valueType: ValueType.INT },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: probes.map(([probe, p]) => ({
        startTime: millisToHrTime(p.startedAtMs ?? PROCESS_START_MS),
        endTime,
        attributes: { [ATTR.PROBE]: probe },
        value: value(p),
      })),
    };
  };
  return [
    sum(METRIC.AGENT_EVENTS_READ, (p) => p.read),
    sum(METRIC.AGENT_EVENTS_LOST, (p) => p.lost),
    sum(METRIC.AGENT_EVENTS_DECODE_ERRORS, (p) => p.decodeErrors),
  ];
}

export function registerSelfMetrics(meter: Meter, producer: HistogramProducer, src: SelfMetricsSources): void {
  producer.addSums(() => probeSums(src.stats));
  const counter = (name: MetricName) => createObservable(meter, METRICS[name]);
  const exportFailures = counter(METRIC.AGENT_EXPORT_FAILURES);
  const hits = counter(METRIC.AGENT_CARDINALITY_LIMIT_HITS);
  const logsDropped = counter(METRIC.AGENT_LOG_RECORDS_DROPPED);
  meter.addBatchObservableCallback(
    (o) => {
      const stats = src.stats();
      // Our wrappers count every exporter; a provider may add exporters we do not run (it never overrides ours).
      const failures = new Map(Object.entries(stats?.exports ?? {}).map(([id, e]) => [id, e.failures]));
      for (const [id, n] of src.exportFailures) failures.set(id, n);
      for (const [id, n] of failures) o.observe(exportFailures, n, { [ATTR.EXPORTER]: id });
      for (const [metric, n] of src.cardinalityHits) o.observe(hits, n, { [ATTR.METRIC_NAME]: metric });
      for (const [id, n] of src.logRecordsDropped) o.observe(logsDropped, n, { [ATTR.EXPORTER]: id });
    },
    [exportFailures, hits, logsDropped],
  );
}
