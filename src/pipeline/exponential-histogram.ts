// Base-2 exponential histogram buckets (OTLP ExponentialHistogramDataPoint), kept per series by the
// histogram tables for the readers that ask for them. The mapping is the OpenTelemetry data model's
// ("Exponential Buckets", as in the JS SDK's LogarithmMapping and ExponentMapping): at scale s,
// bucket i holds (2^(i/2^s), 2^((i+1)/2^s)]; an exact power of two is placed from its exponent, so
// it lands in the bucket it closes. A series starts at the finest scale and halves its resolution
// whenever a value would need more than MAX_SIZE buckets, as the SDK's aggregation does.

/** The SDK's defaults: the finest scale, and the most buckets a series keeps. */
export const MAX_SCALE = 20;
export const MAX_SIZE = 160;
/** Below it every finite double maps to one of two buckets: no series ever needs a coarser scale. */
const MIN_SCALE = -10;
// IEEE 754 double: the exponent field and its bias.
const EXPONENT_MASK = 0x7ff00000;
const SIGNIFICAND_MASK = 0x000fffff;
const EXPONENT_BIAS = 1023;
/** The smallest normal double, 2^-1022: smaller positive values are counted as it. */
const MIN_NORMAL = 2 ** -1022;

const bits = new DataView(new ArrayBuffer(8));

/** The unbiased base-2 exponent of a normal double, and whether it is an exact power of two. */
function exponentOf(v: number): { exp: number; power: boolean } {
  bits.setFloat64(0, v);
  const hi = bits.getUint32(0);
  const lo = bits.getUint32(4);
  return { exp: ((hi & EXPONENT_MASK) >>> 20) - EXPONENT_BIAS, power: (hi & SIGNIFICAND_MASK) === 0 && lo === 0 };
}

/** The bucket index of a positive finite value at `scale`. */
export function mapToIndex(value: number, scale: number): number {
  const v = value < MIN_NORMAL ? MIN_NORMAL : value;
  const { exp, power } = exponentOf(v);
  if (scale <= 0) return (exp - (power ? 1 : 0)) >> -scale;
  if (power) return (exp << scale) - 1;
  return Math.floor(Math.log2(v) * 2 ** scale);
}

/** The lower boundary of bucket `index` at `scale` (exclusive; the upper one is the next bucket's). */
export const lowerBoundary = (index: number, scale: number): number => 2 ** (index / 2 ** scale);

/** One series' exponential state: the SDK's ExponentialHistogram value, plus its own start time. */
export interface ExponentialBuckets {
  scale: number;
  /** Index of counts[0]. */
  offset: number;
  counts: number[];
  /** Values of 0 (no negative value is ever recorded: durations, round trips). */
  zeroCount: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export function newExponentialBuckets(): ExponentialBuckets {
  return { scale: MAX_SCALE, offset: 0, counts: [], zeroCount: 0, count: 0, sum: 0, min: Infinity, max: -Infinity };
}

/** Halves the resolution `change` times: bucket i becomes i >> change (a floor, negative indexes too). */
export function downscale(b: ExponentialBuckets, change: number): void {
  if (change <= 0) return;
  b.scale -= change;
  if (b.counts.length === 0) return;
  const offset = b.offset >> change;
  const counts = new Array<number>(((b.offset + b.counts.length - 1) >> change) - offset + 1).fill(0);
  for (let i = 0; i < b.counts.length; i++) counts[((b.offset + i) >> change) - offset]! += b.counts[i]!;
  b.offset = offset;
  b.counts = counts;
}

/** Records a value (negative and NaN values are not expected and are counted as 0). */
export function recordExponential(b: ExponentialBuckets, value: number): void {
  b.count++;
  if (!(value > 0)) {
    b.zeroCount++;
    if (b.min > 0) b.min = 0;
    if (b.max < 0) b.max = 0;
    return;
  }
  b.sum += value;
  if (value < b.min) b.min = value;
  if (value > b.max) b.max = value;
  let index = mapToIndex(value, b.scale);
  if (b.counts.length === 0) {
    b.offset = index;
    b.counts.push(1);
    return;
  }
  const low = Math.min(b.offset, index);
  const high = Math.max(b.offset + b.counts.length - 1, index);
  let change = 0;
  while ((high >> change) - (low >> change) + 1 > MAX_SIZE && b.scale - change > MIN_SCALE) change++;
  if (change > 0) {
    downscale(b, change);
    index >>= change;
  }
  if (index < b.offset) {
    b.counts.unshift(...new Array<number>(b.offset - index).fill(0));
    b.offset = index;
  } else if (index >= b.offset + b.counts.length) {
    b.counts.push(...new Array<number>(index - b.offset - b.counts.length + 1).fill(0));
  }
  b.counts[index - b.offset]!++;
}

/**
 * What `now` counted since `before`, both cumulative states of one series (for delta readers), or
 * undefined when `now` does not contain `before` (the series was reset). `before` is brought to the
 * scale of `now` first: a cumulative series only ever gets coarser.
 */
export function subtractExponential(now: ExponentialBuckets, before: ExponentialBuckets): ExponentialBuckets | undefined {
  if (before.scale < now.scale || before.count > now.count) return undefined;
  const b: ExponentialBuckets = { ...before, counts: [...before.counts] };
  downscale(b, b.scale - now.scale);
  const counts = [...now.counts];
  for (let i = 0; i < b.counts.length; i++) {
    const at = b.offset + i - now.offset;
    const c = b.counts[i]!;
    if (c === 0) continue;
    if (at < 0 || at >= counts.length || counts[at]! < c) return undefined;
    counts[at]! -= c;
  }
  // min and max of the interval alone are not known from cumulative state.
  return { ...now, counts, zeroCount: now.zeroCount - before.zeroCount, count: now.count - before.count, sum: now.sum - before.sum };
}

/**
 * The values pre-bucketed observations can take: whole multiples of `unit` (the kernel counts
 * integer µs or ns, and its bounds are whole units too), from one unit up to `most()`.
 */
export interface ValueRange {
  readonly unit: number;
  readonly most: () => number;
}

/** Whether every value in [lo, hi] falls in one bucket at `scale`. */
const oneBucket = (lo: number, hi: number, scale: number): boolean => mapToIndex(lo, scale) === mapToIndex(hi, scale);

/**
 * Exponential buckets that say no more than explicit buckets know: the finest scale at which each
 * non-empty explicit bucket lies wholly inside one exponential bucket (so every value is counted
 * in the bucket that holds it), with at most MAX_SIZE buckets. The resolution is what the explicit
 * bounds allow: bounds at powers of two give fine scales, a bucket across one gives a coarse one.
 * undefined when no scale can hold a bucket (one that straddles 1 s, a boundary at every scale).
 */
export function fromExplicit(
  boundaries: readonly number[],
  counts: readonly number[],
  sum: number,
  count: number,
  range: ValueRange,
): ExponentialBuckets | undefined {
  const top = counts[boundaries.length] ? range.most() : 0;
  const spans: [lo: number, hi: number, n: number][] = [];
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n === 0) continue;
    const lo = i === 0 ? range.unit : boundaries[i - 1]! + range.unit;
    const hi = i < boundaries.length ? boundaries[i]! : top;
    spans.push([lo, Math.max(lo, hi), n]);
  }
  const fits = (scale: number): boolean => {
    let low = Infinity;
    let high = -Infinity;
    for (const [lo, hi] of spans) {
      if (!oneBucket(lo, hi, scale)) return false;
      const i = mapToIndex(hi, scale);
      if (i < low) low = i;
      if (i > high) high = i;
    }
    return spans.length === 0 || high - low + 1 <= MAX_SIZE;
  };
  // Buckets nest (bucket i at scale s is within bucket i >> 1 at s - 1): if a scale fits, every coarser one does.
  if (!fits(MIN_SCALE)) return undefined;
  let ok = MIN_SCALE;
  let bad = MAX_SCALE + 1;
  if (fits(MAX_SCALE)) ok = MAX_SCALE;
  else {
    while (bad - ok > 1) {
      const mid = (ok + bad) >> 1;
      if (fits(mid)) ok = mid;
      else bad = mid;
    }
  }
  const b: ExponentialBuckets = { scale: ok, offset: 0, counts: [], zeroCount: 0, count, sum, min: Infinity, max: -Infinity };
  if (spans.length === 0) return b;
  const indexes = spans.map(([, hi]) => mapToIndex(hi, ok));
  b.offset = Math.min(...indexes);
  b.counts = new Array<number>(Math.max(...indexes) - b.offset + 1).fill(0);
  spans.forEach(([, , n], i) => (b.counts[indexes[i]! - b.offset]! += n));
  return b;
}
