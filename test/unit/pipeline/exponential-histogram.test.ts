// netwatch's own base-2 exponential buckets land every value where the OpenTelemetry SDK's
// ExponentialHistogram aggregation puts it: same scale, same offset, same counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregationTemporality, AggregationType, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import {
  type ExponentialBuckets,
  fromExplicit,
  lowerBoundary,
  mapToIndex,
  MAX_SIZE,
  newExponentialBuckets,
  recordExponential,
  subtractExponential,
} from '../../../src/pipeline/exponential-histogram';

class TestReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
      aggregationSelector: () => ({ type: AggregationType.EXPONENTIAL_HISTOGRAM }),
    });
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the SDK's own aggregation makes of the same values. */
async function sdkBuckets(values: readonly number[]): Promise<ExponentialHistogram> {
  const reader = new TestReader();
  const h = new MeterProvider({ readers: [reader] }).getMeter('t').createHistogram('h');
  for (const v of values) h.record(v);
  const { resourceMetrics } = await reader.collect();
  const m = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  assert.equal(m.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  return m.dataPoints[0]!.value;
}

function ours(values: readonly number[]): ExponentialBuckets {
  const b = newExponentialBuckets();
  for (const v of values) recordExponential(b, v);
  return b;
}

/** A deterministic spread of values: what round trips and durations look like, and the awkward ones. */
function values(n: number, from: number, to: number, seed = 1): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(from * (to / from) ** (x / 2 ** 31));
  }
  return out;
}

const cases: [string, number[]][] = [
  ['one value', [0.0015]],
  ['loopback round trips (10 µs to 100 µs)', values(500, 1e-5, 1e-4)],
  ['round trips of every kind (10 µs to 2.5 s)', values(2000, 1e-5, 2.5, 7)],
  ['connection lifetimes (1 ms to an hour)', values(2000, 1e-3, 3600, 3)],
  ['powers of two and their neighbours', [0.25, 0.5, 1, 2, 4, 1024, 0.5000001, 0.4999999, 2 ** -20, 3]],
  ['zeros among them', [0, 0.001, 0, 2, 0]],
];

for (const [name, vs] of cases) {
  test(`the buckets are the SDK's: ${name}`, async () => {
    const sdk = await sdkBuckets(vs);
    const b = ours(vs);
    assert.deepEqual(
      { scale: b.scale, offset: b.offset, counts: b.counts, zeroCount: b.zeroCount, count: b.count },
      { scale: sdk.scale, offset: sdk.positive.offset, counts: sdk.positive.bucketCounts, zeroCount: sdk.zeroCount, count: sdk.count },
    );
    assert.ok(Math.abs(b.sum - (sdk.sum ?? 0)) < 1e-9 * Math.max(1, b.sum));
    assert.ok(b.counts.length <= MAX_SIZE);
  });
}

test('each value falls in its bucket: above the lower boundary, at most the upper one', () => {
  for (const scale of [20, 8, 3, 0, -2]) {
    for (const v of [...values(300, 1e-6, 1e4, scale + 50), 1, 2, 0.5, 1024]) {
      const i = mapToIndex(v, scale);
      assert.ok(lowerBoundary(i, scale) < v * (1 + 1e-12), `${v} above bucket ${i} at scale ${scale}`);
      assert.ok(v <= lowerBoundary(i + 1, scale) * (1 + 1e-12), `${v} at most the top of bucket ${i} at scale ${scale}`);
    }
  }
  assert.equal(mapToIndex(1, 0), -1, 'a power of two closes the bucket below it: (0.5, 1]');
  assert.equal(mapToIndex(1, 3), -1);
});

test('what a cumulative series counted since an earlier state, across a change of scale', () => {
  const early = values(50, 1e-4, 1e-3);
  const before = ours(early);
  const now = ours(early);
  for (const v of values(400, 1e-5, 10, 9)) recordExponential(now, v);
  assert.ok(now.scale < before.scale, 'the wider spread made it coarser');
  const d = subtractExponential(now, before)!;
  assert.equal(d.count, 400);
  assert.equal(d.counts.reduce((a, c) => a + c, 0) + d.zeroCount, 400);
  assert.equal(subtractExponential(before, now), undefined, 'a state with fewer values is a reset, not a delta');
});

/** Integer µs values bucketed as the kernel does (count.h bucket_of): the first bound not exceeded. */
function kernelBuckets(valuesUs: readonly number[], boundsUs: readonly number[]): number[] {
  const counts = new Array<number>(boundsUs.length + 1).fill(0);
  for (const v of valuesUs) {
    let i = 0;
    while (i < boundsUs.length && v > boundsUs[i]!) i++;
    counts[i]!++;
  }
  return counts;
}

const RTT = { unit: 1e-6, most: () => 536.870911 };

test('kernel buckets become exponential ones that hold every value the kernel counted in them', () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const boundsUs = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000];
  for (let round = 0; round < 200; round++) {
    const values = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.max(1, Math.round(Math.exp(random() * Math.log(3e6)))));
    const counts = kernelBuckets(values, boundsUs);
    const e = fromExplicit(
      boundsUs.map((us) => us / 1e6),
      counts,
      values.reduce((a, v) => a + v / 1e6, 0),
      values.length,
      RTT,
    )!;
    assert.ok(e, `values ${values.join(', ')}`);
    assert.equal(
      e.counts.reduce((a, c) => a + c, 0),
      values.length,
    );
    // The same counts as the values themselves bucketed at that scale: each where it really is.
    const exact = new Map<number, number>();
    for (const v of values) exact.set(mapToIndex(v / 1e6, e.scale), (exact.get(mapToIndex(v / 1e6, e.scale)) ?? 0) + 1);
    const got = new Map(e.counts.flatMap((c, i) => (c ? [[e.offset + i, c] as const] : [])));
    assert.deepEqual(got, exact, `${values.join(', ')} µs at scale ${e.scale}`);
  }
});

test('kernel bounds at powers of two keep a fine scale; a bucket across 1 s has no exponential form', () => {
  // floor(2^k s) in whole µs, k from -19 to 2 (README): each kernel bucket is then inside one exponential bucket of scale 0.
  const boundsUs = Array.from({ length: 22 }, (_, i) => Math.floor(2 ** (i - 19) * 1e6));
  assert.deepEqual(boundsUs.slice(0, 4), [1, 3, 7, 15]);
  const e = fromExplicit(
    boundsUs.map((us) => us / 1e6),
    kernelBuckets([1, 2, 12, 40, 900, 30_000], boundsUs),
    0.030955,
    6,
    RTT,
  )!;
  assert.equal(e.scale, 0);
  assert.deepEqual([e.offset, e.counts], [-20, [1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1]]);
  assert.equal(fromExplicit([0.5, 2], [0, 1, 0], 1.5, 1, RTT), undefined, '(0.5 s, 2 s] holds values on both sides of 1 s');
  assert.equal(fromExplicit([0.5, 2], [1, 0, 0], 0.4, 1, RTT)?.count, 1, 'an empty bucket across 1 s does not matter');
});
