// Plain-JS aggregation: an SDK instrument call costs ~1.5 µs (attribute hashing), more than reading
// the event, so events update these maps and the SDK only sees them once per collection.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';

/** The attribute set the SDK itself uses for series beyond the cardinality limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const OVERFLOW_KEY = '\x00overflow';

/** Keeps at most `limit` series (the last one being the overflow series), like the SDK. */
abstract class Table<S> {
  readonly series = new Map<string, S & { attrs: Attributes }>();
  constructor(readonly metric: string, private readonly limit: number, private readonly onOverflow: (metric: string) => void) {}

  protected slot(key: string, attrs: () => Attributes, create: () => S): [string, S & { attrs: Attributes }] {
    let s = this.series.get(key);
    if (s) return [key, s];
    if (this.series.size >= this.limit - 1) {
      this.onOverflow(this.metric);
      key = OVERFLOW_KEY;
      s = this.series.get(key);
      if (s) return [key, s];
      s = { ...create(), attrs: OVERFLOW_ATTRIBUTES };
    } else {
      s = { ...create(), attrs: attrs() };
    }
    this.series.set(key, s);
    return [key, s];
  }
}

/** Cumulative sums (counters, and up-down counters whose series stay at 0 rather than vanish). */
export class SumTable extends Table<{ value: number }> {
  /** Returns the key the value landed under (the overflow key past the limit) so callers can undo it. */
  add(key: string, attrs: () => Attributes, delta: number): string {
    const [k, s] = this.slot(key, attrs, () => ({ value: 0 }));
    s.value += delta;
    return k;
  }
  /** Only for keys returned by add(). */
  addExisting(key: string, delta: number): void {
    const s = this.series.get(key);
    if (s) s.value += delta;
  }
}

export interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
  startTime: HrTime;
}

/** Cumulative explicit-bucket histograms; bucket i holds (b[i-1], b[i]] as in OTLP. */
export class HistogramTable extends Table<HistogramSeries> {
  constructor(metric: string, limit: number, onOverflow: (metric: string) => void, readonly boundaries: readonly number[]) {
    super(metric, limit, onOverflow);
  }

  record(key: string, attrs: () => Attributes, value: number): void {
    const [, s] = this.slot(key, attrs, () => ({
      counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity, startTime: millisToHrTime(Date.now()),
    }));
    let i = 0;
    while (i < this.boundaries.length && value > this.boundaries[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
  }
}
