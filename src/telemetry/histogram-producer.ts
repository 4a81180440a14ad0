// Hands pre-bucketed histograms to the metric readers as a MetricProducer, so closing a connection
// costs a few array updates instead of an SDK histogram.record() (see aggregate.ts); and counters
// whose start time is their own (a probe re-created by a reload starts again from 0 at a new time).
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type MetricData,
  type MetricProducer,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import type { HistogramTable } from '../pipeline/aggregate';
import type { MetricDescriptor } from '../catalogue/generated';

export class HistogramProducer implements MetricProducer {
  private readonly tables: { descriptor: MetricDescriptor; table: HistogramTable }[] = [];

  constructor(
    private readonly resource: Resource,
    private readonly scope: { name: string; version: string; schemaUrl?: string },
  ) {}

  private readonly sums: (() => SumMetricData[])[] = [];

  add(descriptor: MetricDescriptor, table: HistogramTable): void {
    this.tables.push({ descriptor, table });
  }

  /** Monotonic cumulative counters read at collection, each point with its own start time. */
  addSums(source: () => SumMetricData[]): void {
    this.sums.push(source);
  }

  async collect(): Promise<CollectionResult> {
    const endTime = millisToHrTime(Date.now());
    const metrics: MetricData[] = [];
    for (const { descriptor, table } of this.tables) {
      if (table.series.size === 0) continue;
      const boundaries = [...table.boundaries];
      metrics.push({
        descriptor: { name: descriptor.name, description: descriptor.description, unit: descriptor.unit, valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...table.series.values()].map((s) => ({
          startTime: s.startTime,
          endTime,
          attributes: s.attrs,
          value: { buckets: { boundaries, counts: [...s.counts] }, sum: s.sum, count: s.count, min: s.min, max: s.max },
        })),
      });
    }
    for (const source of this.sums) for (const m of source()) if (m.dataPoints.length) metrics.push(m);
    return { resourceMetrics: { resource: this.resource, scopeMetrics: metrics.length ? [{ scope: this.scope, metrics }] : [] }, errors: [] };
  }
}
