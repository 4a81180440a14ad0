// The packet_fate receiver's metrics: the kernel's per-interval counts (count records) are added
// to plain-JS cumulative tables (aggregate.ts) that the SDK reads once per collection.
import type { Meter, Observable } from '@opentelemetry/api';
import type { PacketFateReceiverConfig } from './config';
import type { EventSink, PipelineEvent } from '../../pipeline/event';
import type { FateKind } from './event';
import { FATE_TELEMETRY, fateMetricEnabled } from './settings';
import { SumTable } from '../../pipeline/aggregate';
import { createObservable, observeTables } from '../../telemetry/instruments';
import { METRICS, type MetricDescriptor, type MetricName } from '../../catalogue/generated';
import { fateMetricPlan, type FatePlan } from './attributes';

export const FATE_METRICS: readonly MetricDescriptor[] = Object.values(METRICS).filter((m) => m.source === 'packet_fate');

/** What a reloaded configuration carries over so the counters stay cumulative. */
export interface PacketFateMetricsState {
  readonly sums: ReadonlyMap<MetricName, SumTable>;
}

export interface PacketFateMetricsOptions {
  receivers: readonly PacketFateReceiverConfig[];
  carry?: PacketFateMetricsState;
  cardinalityLimit: number;
  onOverflow: (metric: string) => void;
}

export class PacketFateMetrics implements EventSink {
  /** receiver id → kind → [table, plan] (absent when the kind's metric is off for that receiver). */
  private readonly byReceiver = new Map<string, Map<FateKind, { table: SumTable; plan: FatePlan }>>();
  private readonly sums = new Map<MetricName, SumTable>();

  constructor(meter: Meter, opts: PacketFateMetricsOptions) {
    const wanted = FATE_METRICS.filter((m) => opts.receivers.some((rc) => fateMetricEnabled(rc, m.name)));
    const observables: [Observable, SumTable][] = [];
    for (const m of wanted) {
      const t = opts.carry?.sums.get(m.name) ?? new SumTable(m.name, opts.cardinalityLimit, opts.onOverflow);
      this.sums.set(m.name, t);
      observables.push([createObservable(meter, m), t]);
    }
    for (const rc of opts.receivers) {
      const kinds = new Map<FateKind, { table: SumTable; plan: FatePlan }>();
      const plans = new Map<MetricName, FatePlan>();
      for (const [kind, { metric }] of Object.entries(FATE_TELEMETRY) as [FateKind, { metric: MetricName }][]) {
        const table = this.sums.get(metric);
        if (!table || !fateMetricEnabled(rc, metric)) continue;
        let plan = plans.get(metric);
        if (!plan) plans.set(metric, (plan = fateMetricPlan(METRICS[metric].attributes, rc.include)));
        kinds.set(kind, { table, plan });
      }
      this.byReceiver.set(rc.id, kinds);
    }
    observeTables(meter, observables);
  }

  state(): PacketFateMetricsState {
    return { sums: this.sums };
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'packet_fate' || ev.record !== 'count') return;
    const m = this.byReceiver.get(ev.receiver)?.get(ev.kind);
    if (m) m.table.add(m.plan.key(ev), m.plan, ev, ev.count);
  }
}
