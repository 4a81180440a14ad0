// Figures over repeated runs: the median, with the min and max so the spread is visible.

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

/** Median (mean of the middle two for an even count), min and max; NaN for no values. */
export function summarize(values: readonly number[]): Summary {
  const runs = [...values];
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, runs };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], runs };
}

/** Collects one value per run under a name, in the order names first appear. */
export class Samples {
  private readonly values = new Map<string, number[]>();
  add(name: string, value: number): void {
    const list = this.values.get(name) ?? [];
    list.push(value);
    this.values.set(name, list);
  }
  summary(name: string): Summary {
    return summarize(this.values.get(name) ?? []);
  }
  names(): string[] {
    return [...this.values.keys()];
  }
}
