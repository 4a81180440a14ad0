// Hands pre-bucketed histograms to the metric readers as a MetricProducer, so closing a connection
// costs a few array updates instead of an SDK histogram.record() (see aggregate.ts); and counters
// whose start time is their own (a probe re-created by a reload starts again from 0 at a new time).
// Readers of exporters that ask for base-2 exponential histograms get them from exponential(): the
// tables then keep exponential buckets too, so each reader gets the aggregation its exporter asked
// for. Histograms the kernel bucketed (explicit bounds, no values) are converted to the finest
// scale at which every kernel bucket fits in one exponential bucket: never finer than the kernel
// counted, so no value is reported in a bucket that does not hold it.
import { type HrTime, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type ExponentialHistogram,
  type MetricData,
  type MetricDescriptor as SdkDescriptor,
  type MetricProducer,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import type { HistogramTable } from '../pipeline/aggregate';
import { type ExponentialBuckets, fromExplicit } from '../pipeline/exponential-histogram';
import type { MetricDescriptor } from '../catalogue/generated';

type ExponentialPoint = DataPoint<ExponentialHistogram>;

/** An exponential histogram value; min and max only when known (they are not for kernel buckets). */
function exponentialValue(e: ExponentialBuckets): ExponentialHistogram {
  const known = e.min <= e.max;
  return {
    count: e.count,
    sum: e.sum,
    ...(known ? { min: e.min, max: e.max } : {}),
    scale: e.scale,
    zeroCount: e.zeroCount,
    positive: { offset: e.offset, bucketCounts: [...e.counts] },
    negative: { offset: 0, bucketCounts: [] },
  };
}

/**
 * A table's series as exponential histograms, or undefined when a series cannot be: values
 * recorded here have exact exponential buckets; observations the kernel bucketed are converted
 * to the finest scale that keeps each in a bucket that holds it (fromExplicit).
 */
function exponentialPoints(table: HistogramTable, endTime: HrTime): ExponentialPoint[] | undefined {
  const points: ExponentialPoint[] = [];
  for (const s of table.series.values()) {
    if (s.preAggregated) {
      const e = table.valueRange && fromExplicit(table.boundaries, s.counts, s.sum, s.count, table.valueRange);
      if (!e) return undefined;
      if (e.count > 0) points.push({ startTime: s.startTime, endTime, attributes: s.attrs, value: exponentialValue(e) });
      continue;
    }
    // A series carried over from before an exporter asked for exponential buckets has them from its next value.
    const e = s.exponential;
    if (e && e.count > 0) points.push({ startTime: e.startTime, endTime, attributes: s.attrs, value: exponentialValue(e) });
  }
  return points;
}

export class HistogramProducer implements MetricProducer {
  private readonly tables: { descriptor: MetricDescriptor; table: HistogramTable }[] = [];

  constructor(
    private readonly resource: Resource,
    private readonly scope: { name: string; version: string; schemaUrl?: string },
  ) {}

  private readonly sums: (() => SumMetricData[])[] = [];
  private exponentialWanted = false;
  private readonly exponentialView: MetricProducer = { collect: () => Promise.resolve(this.collectAs('exponential')) };

  add(descriptor: MetricDescriptor, table: HistogramTable): void {
    this.tables.push({ descriptor, table });
    if (this.exponentialWanted) table.recordExponential();
  }

  /** The producer for a reader whose exporter wants base-2 exponential histograms (the default gives explicit buckets). */
  exponential(): MetricProducer {
    this.exponentialWanted = true;
    for (const { table } of this.tables) table.recordExponential();
    return this.exponentialView;
  }

  /** Monotonic cumulative counters read at collection, each point with its own start time. */
  addSums(source: () => SumMetricData[]): void {
    this.sums.push(source);
  }

  collect(): Promise<CollectionResult> {
    return Promise.resolve(this.collectAs('explicit'));
  }

  private collectAs(aggregation: 'explicit' | 'exponential'): CollectionResult {
    const endTime = millisToHrTime(Date.now());
    const metrics: MetricData[] = [];
    for (const { descriptor: d, table } of this.tables) {
      const descriptor: SdkDescriptor = { name: d.name, description: d.description, unit: d.unit, valueType: ValueType.DOUBLE };
      const series = [...table.series.values()];
      if (aggregation === 'exponential') {
        const points = exponentialPoints(table, endTime);
        if (points) {
          if (points.length)
            metrics.push({
              descriptor,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
              dataPoints: points,
            });
          continue;
        }
        // No exponential buckets can hold what the kernel's buckets hold: explicit ones, as counted.
      }
      if (series.length === 0) continue;
      const boundaries = [...table.boundaries];
      metrics.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: series.map((s) => ({
          startTime: s.startTime,
          endTime,
          attributes: s.attrs,
          // Kernel-aggregated observations carry no min/max: report none rather than a wrong one.
          value: s.preAggregated
            ? { buckets: { boundaries, counts: [...s.counts] }, sum: s.sum, count: s.count }
            : { buckets: { boundaries, counts: [...s.counts] }, sum: s.sum, count: s.count, min: s.min, max: s.max },
        })),
      });
    }
    for (const source of this.sums) for (const m of source()) if (m.dataPoints.length) metrics.push(m);
    return { resourceMetrics: { resource: this.resource, scopeMetrics: metrics.length ? [{ scope: this.scope, metrics }] : [] }, errors: [] };
  }
}
