// Delta temporality for the pre-aggregated data of HistogramProducer (histograms and the probes'
// counters), which is cumulative: one DeltaHistograms per reader remembers what that reader last
// exported and hands over the difference (the SDK does the same for its own instruments under a
// delta temporality preference).
import { AggregationTemporality, type CollectionResult, DataPointType, type MetricProducer, type MetricCollectOptions } from '@opentelemetry/sdk-metrics';
import type { HrTime } from '@opentelemetry/api';
import { type ExponentialBuckets, subtractExponential } from '../pipeline/exponential-histogram';

const hrTimeToMs = (t: HrTime): number => t[0] * 1e3 + t[1] / 1e6;

interface Last {
  counts: number[];
  sum: number;
  count: number;
  endTime: HrTime;
  /** Exponential histograms: the whole cumulative state (its buckets may have been merged since). */
  exponential?: ExponentialBuckets;
}

const seriesKey = (metric: string, attrs: object): string =>
  `${metric}\0${JSON.stringify(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;

export class DeltaHistograms implements MetricProducer {
  private last = new Map<string, Last>();

  constructor(private readonly inner: MetricProducer) {}

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const r = await this.inner.collect(options);
    const next = new Map<string, Last>();
    for (const sm of r.resourceMetrics.scopeMetrics) {
      sm.metrics = sm.metrics.map((m) => {
        if (m.dataPointType === DataPointType.SUM && m.isMonotonic && m.aggregationTemporality === AggregationTemporality.CUMULATIVE) {
          const dataPoints = m.dataPoints.flatMap((p) => {
            const key = seriesKey(m.descriptor.name, p.attributes);
            next.set(key, { counts: [], sum: p.value, count: p.value, endTime: p.endTime });
            const prev = this.last.get(key);
            // A counter that shrank, or that starts later than the last export, was reset: all of it is new.
            const base = prev && prev.count <= p.value && hrTimeToMs(p.startTime) <= hrTimeToMs(prev.endTime) ? prev : undefined;
            const value = p.value - (base?.count ?? 0);
            return value === 0 ? [] : [{ ...p, startTime: base?.endTime ?? p.startTime, value }];
          });
          return { ...m, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
        }
        if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM && m.aggregationTemporality === AggregationTemporality.CUMULATIVE) {
          const dataPoints = m.dataPoints.flatMap((p) => {
            const key = seriesKey(m.descriptor.name, p.attributes);
            const v = p.value;
            const now: ExponentialBuckets = {
              scale: v.scale,
              offset: v.positive.offset,
              counts: [...v.positive.bucketCounts],
              zeroCount: v.zeroCount,
              count: v.count,
              sum: v.sum ?? 0,
              min: v.min ?? Infinity,
              max: v.max ?? -Infinity,
            };
            next.set(key, { counts: [], sum: now.sum, count: now.count, endTime: p.endTime, exponential: now });
            const prev = this.last.get(key)?.exponential;
            // Not contained in the last state (fewer values, a finer scale): the series was reset, all of it is new.
            const delta = prev ? subtractExponential(now, prev) : undefined;
            const d = delta ?? now;
            if (d.count === 0) return [];
            return [
              {
                ...p,
                startTime: delta ? this.last.get(key)!.endTime : p.startTime,
                // min and max of the interval alone are not known from cumulative state.
                value: {
                  count: d.count,
                  sum: d.sum,
                  scale: d.scale,
                  zeroCount: d.zeroCount,
                  positive: { offset: d.offset, bucketCounts: d.counts },
                  negative: v.negative,
                },
              },
            ];
          });
          return { ...m, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
        }
        if (m.dataPointType !== DataPointType.HISTOGRAM || m.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return m;
        const dataPoints = m.dataPoints.flatMap((p) => {
          const key = seriesKey(m.descriptor.name, p.attributes);
          const counts = p.value.buckets.counts;
          next.set(key, { counts: [...counts], sum: p.value.sum ?? 0, count: p.value.count, endTime: p.endTime });
          const prev = this.last.get(key);
          // A series that shrank was reset (a restart of its table): all of it is new.
          const base = prev && prev.count <= p.value.count && prev.counts.length === counts.length ? prev : undefined;
          const count = p.value.count - (base?.count ?? 0);
          if (count === 0) return [];
          return [
            {
              ...p,
              startTime: base?.endTime ?? p.startTime,
              // min and max of the interval alone are not known from cumulative state.
              value: {
                buckets: { boundaries: p.value.buckets.boundaries, counts: counts.map((c, i) => c - (base?.counts[i] ?? 0)) },
                sum: (p.value.sum ?? 0) - (base?.sum ?? 0),
                count,
              },
            },
          ];
        });
        return { ...m, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
      });
      sm.metrics = sm.metrics.filter((m) => m.dataPoints.length > 0);
    }
    r.resourceMetrics.scopeMetrics = r.resourceMetrics.scopeMetrics.filter((sm) => sm.metrics.length > 0);
    this.last = next;
    return r;
  }
}
