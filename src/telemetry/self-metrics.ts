// The agent's own health as metrics: ring-buffer reads, losses and decode errors per probe and its
// BPF programs' run time while the kernel keeps statistics (from a stats provider the runner
// installs), cardinality-limit hits, and what the exporters delivered and the log processors
// turned away, under the conventions' otel.sdk.* names.
import { type Attributes, type Meter, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { ATTR, METRIC, METRICS, type MetricName } from '../catalogue/generated';
import type { HistogramProducer } from './histogram-producer';
import { createObservable } from './instruments';

import type { ProbeStats, ProgramCost } from '../kernel/probe-stats';

export type { ProbeStats };
export interface AgentStats {
  probes: Record<string, ProbeStats>;
}
export type StatsProvider = () => AgentStats;

/** One series of a self-metric counter: its attributes and its count. */
export interface CountedSeries {
  readonly attrs: Attributes;
  value: number;
}

export interface SelfMetricsSources {
  stats: () => AgentStats | undefined;
  /** otel.sdk.exporter.metric_data_point.exported / .log.exported / otel.sdk.processor.log.processed, by series key. */
  sdk: ReadonlyMap<MetricName, ReadonlyMap<string, CountedSeries>>;
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
  const descriptor = (name: MetricName, valueType: ValueType) => {
    const d = METRICS[name];
    return { name: d.name, description: d.description, unit: d.unit, valueType };
  };
  const startTime = (p: ProbeStats) => millisToHrTime(p.startedAtMs ?? PROCESS_START_MS);
  const sum = (name: MetricName, value: (p: ProbeStats) => number): SumMetricData => ({
    descriptor: descriptor(name, ValueType.INT),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: probes.map(([probe, p]) => ({ startTime: startTime(p), endTime, attributes: { [ATTR.PROBE]: probe }, value: value(p) })),
  });
  // Per program, only while the kernel keeps run-time statistics (a probe reports none otherwise).
  const perProgram = (name: MetricName, valueType: ValueType, value: (c: ProgramCost) => number): SumMetricData => ({
    descriptor: descriptor(name, valueType),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: probes.flatMap(([probe, p]) =>
      (p.programs ?? []).map((c) => ({ startTime: startTime(p), endTime, attributes: { [ATTR.PROBE]: probe, [ATTR.BPF_PROGRAM]: c.name }, value: value(c) })),
    ),
  });
  const sums = [
    sum(METRIC.AGENT_EVENTS_READ, (p) => p.read),
    sum(METRIC.AGENT_EVENTS_LOST, (p) => p.lost),
    sum(METRIC.AGENT_EVENTS_DECODE_ERRORS, (p) => p.decodeErrors),
  ];
  if (probes.some(([, p]) => p.programs)) {
    sums.push(
      perProgram(METRIC.AGENT_BPF_RUN_TIME, ValueType.DOUBLE, (c) => c.runTimeNs / 1e9),
      perProgram(METRIC.AGENT_BPF_RUNS, ValueType.INT, (c) => c.runs),
    );
  }
  return sums;
}

export function registerSelfMetrics(meter: Meter, producer: HistogramProducer, src: SelfMetricsSources): void {
  producer.addSums(() => probeSums(src.stats));
  const hits = createObservable(meter, METRICS[METRIC.AGENT_CARDINALITY_LIMIT_HITS]);
  const sdk = [...src.sdk].map(([name, series]) => [createObservable(meter, METRICS[name]), series] as const);
  meter.addBatchObservableCallback(
    (o) => {
      for (const [metric, n] of src.cardinalityHits) o.observe(hits, n, { [ATTR.METRIC_NAME]: metric });
      for (const [inst, series] of sdk) for (const s of series.values()) o.observe(inst, s.value, s.attrs);
    },
    [hits, ...sdk.map(([inst]) => inst)],
  );
}
