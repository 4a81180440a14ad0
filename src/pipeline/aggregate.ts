// Plain-JS aggregation: an SDK instrument call costs ~1.5 µs (attribute hashing), more than reading
// the event, so events update these maps and the SDK only sees them once per collection.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { InternalError } from '../errors';
import { type ExponentialBuckets, newExponentialBuckets, recordExponential, type ValueRange } from './exponential-histogram';

/** The attribute set the SDK itself uses for series beyond the cardinality limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const OVERFLOW_KEY = '\x00overflow';

/** Builds a series' attributes from the event that creates it; only called on a table miss. */
export interface AttributeSource<E> {
  attributes(ev: E): Attributes;
}

/** Keeps at most `limit` series (the last one being the overflow series), like the SDK. */
abstract class Table<S extends object> {
  readonly series = new Map<string, S & { attrs: Attributes }>();
  /** The key the last update landed under (the overflow key past the limit), so callers can undo it. */
  lastKey = '';
  constructor(
    readonly metric: string,
    private readonly limit: number,
    private readonly onOverflow: (metric: string) => void,
  ) {}

  protected abstract create(): S;

  /** Hot path: no closure, no tuple; attributes are built only when the series is new. */
  protected slot<E>(key: string, src: AttributeSource<E> | null, ev: E, attrs?: Attributes): S & { attrs: Attributes } {
    const hit = this.series.get(key);
    if (hit !== undefined) {
      this.lastKey = key;
      return hit;
    }
    let s: S & { attrs: Attributes };
    if (this.series.size >= this.limit - 1) {
      this.onOverflow(this.metric);
      key = OVERFLOW_KEY;
      s = this.series.get(key) ?? Object.assign(this.create(), { attrs: OVERFLOW_ATTRIBUTES });
    } else {
      s = Object.assign(this.create(), { attrs: attrs ?? src!.attributes(ev) });
    }
    this.series.set(key, s);
    this.lastKey = key;
    return s;
  }
}

/** Cumulative sums (counters, and up-down counters whose series stay at 0 rather than vanish). */
export class SumTable extends Table<{ value: number }> {
  protected create(): { value: number } {
    return { value: 0 };
  }
  /** Returns the key the value landed under (the overflow key past the limit) so callers can undo it. */
  add<E>(key: string, src: AttributeSource<E>, ev: E, delta: number): string {
    this.slot(key, src, ev).value += delta;
    return this.lastKey;
  }
  /** As add(), with the attributes already built (only used when the series is new). */
  addWithAttributes(key: string, attrs: () => Attributes, delta: number): string {
    const s = this.series.get(key);
    if (s !== undefined) {
      s.value += delta;
      return key;
    }
    this.slot(key, null, undefined, attrs()).value += delta;
    return this.lastKey;
  }
  /** Adds to the series if it exists (no attributes needed); false when it does not. */
  addPresent(key: string, delta: number): boolean {
    const s = this.series.get(key);
    if (s === undefined) return false;
    s.value += delta;
    this.lastKey = key;
    return true;
  }
  /** Only for keys returned by add(). */
  addExisting(key: string, delta: number): void {
    const s = this.series.get(key);
    if (s) s.value += delta;
  }
}

export interface HistogramSeries {
  counts: number[];
  /** Some observations came pre-aggregated (merge()): min and max do not cover them. */
  preAggregated?: boolean;
  sum: number;
  count: number;
  min: number;
  max: number;
  startTime: HrTime;
  /** Base-2 exponential buckets, once a reader asked for them (from then on: its own counts and start time). */
  exponential?: ExponentialBuckets & { startTime: HrTime };
}

/** Whether two boundary lists are the same (a carried table keeps counting only into the same buckets). */
export const sameBoundaries = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Cumulative explicit-bucket histograms; bucket i holds (b[i-1], b[i]] as in OTLP. When an exporter
 * asks for base-2 exponential histograms, each series keeps exponential buckets too (exponential-histogram.ts).
 */
export class HistogramTable extends Table<HistogramSeries> {
  /** Set by the pipeline when one of its readers exports exponential histograms. */
  private exponential = false;

  constructor(
    metric: string,
    limit: number,
    onOverflow: (metric: string) => void,
    readonly boundaries: readonly number[],
    /** What merged observations can be (their unit and cap): exponential buckets are derived from it. */
    readonly valueRange?: ValueRange,
  ) {
    super(metric, limit, onOverflow);
  }

  protected create(): HistogramSeries {
    return {
      counts: new Array<number>(this.boundaries.length + 1).fill(0),
      sum: 0,
      count: 0,
      min: Infinity,
      max: -Infinity,
      startTime: millisToHrTime(Date.now()),
    };
  }

  /**
   * Add observations aggregated elsewhere (the kernel): per-bucket counts cut by the same bounds,
   * their sum and number. Their minimum and maximum are unknown, so the series reports none.
   */
  merge<E>(key: string, src: AttributeSource<E>, ev: E, buckets: readonly number[], sum: number, count: number): void {
    this.mergeInto(this.slot(key, src, ev), buckets, sum, count);
  }

  /** As merge(), with the attributes already built (only used when the series is new). */
  mergeWithAttributes(key: string, attrs: Attributes, buckets: readonly number[], sum: number, count: number): void {
    this.mergeInto(this.series.get(key) ?? this.slot(key, null, undefined, attrs), buckets, sum, count);
  }

  private mergeInto(s: HistogramSeries, buckets: readonly number[], sum: number, count: number): void {
    if (buckets.length !== s.counts.length) throw new InternalError(`${this.metric}: ${buckets.length} buckets merged into ${s.counts.length}`);
    for (let i = 0; i < buckets.length; i++) s.counts[i]! += buckets[i]!; // same length, checked above
    s.sum += sum;
    s.count += count;
    s.preAggregated = true;
  }

  record<E>(key: string, src: AttributeSource<E>, ev: E, value: number): void {
    const s = this.slot(key, src, ev);
    let i = 0;
    // counts has boundaries.length + 1 buckets, so i is always in range.
    while (i < this.boundaries.length && value > this.boundaries[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    if (this.exponential) recordExponential((s.exponential ??= { ...newExponentialBuckets(), startTime: millisToHrTime(Date.now()) }), value);
  }

  /** Keep base-2 exponential buckets as well, from the next value on. */
  recordExponential(): void {
    this.exponential = true;
  }
}
