// The sni receiver's metrics: ClientHellos counted into a plain-JS table (server names bounded by a
// cardinality limiter per receiver), and the parser's rejections read from the receivers' stats
// at collection. Both carried over a hot reload so the counters stay cumulative.
import type { Meter, Observable } from '@opentelemetry/api';
import type { SniReceiverConfig } from './config';
import type { EventSink, PipelineEvent } from '../../pipeline/event';
import type { ProbeStats } from '../../kernel/probe-stats';
import { SniCardinalityLimiter } from './sni-tracker';
import { SumTable } from '../../pipeline/aggregate';
import { createObservable } from '../../telemetry/instruments';
import { ATTR, METRIC, METRICS, type MetricDescriptor } from '../../catalogue/generated';
import { sniMetricPlan, type SniPlan } from './attributes';

export const SNI_METRICS: readonly MetricDescriptor[] = Object.values(METRICS).filter((m) => m.source === 'sni');

export function sniMetricEnabled(rc: SniReceiverConfig, m: MetricDescriptor): boolean {
  return rc.metrics[m.name]?.enabled ?? m.enabled;
}

/** What a reloaded configuration carries over: the counter table and the names already admitted. */
export interface SniMetricsState {
  readonly hellos: SumTable;
  readonly limiters: ReadonlyMap<string, SniCardinalityLimiter>;
}

export interface SniMetricsOptions {
  receivers: readonly SniReceiverConfig[];
  carry?: SniMetricsState;
  cardinalityLimit: number;
  onOverflow: (metric: string) => void;
  /** Stats of the running receivers by id (the rejection counts live there). */
  probeStats: () => Readonly<Record<string, ProbeStats>>;
}

export class SniMetrics implements EventSink {
  private readonly plans = new Map<string, SniPlan>();
  private readonly hellos: SumTable;
  private readonly limiters = new Map<string, SniCardinalityLimiter>();

  constructor(meter: Meter, opts: SniMetricsOptions) {
    const hellosDesc = METRICS[METRIC.TLS_CLIENT_HELLOS];
    const rejectDesc = METRICS[METRIC.TLS_CLIENT_HELLO_REJECTIONS];
    this.hellos = opts.carry?.hellos ?? new SumTable(hellosDesc.name, opts.cardinalityLimit, opts.onOverflow);
    for (const rc of opts.receivers) {
      // The admitted names survive a reload unless the bounds changed.
      const old = opts.carry?.limiters.get(rc.id);
      const limiter =
        old && old.limit === rc.server_names.max_distinct && old.maxLength === rc.server_names.max_length
          ? old
          : new SniCardinalityLimiter(rc.server_names.max_distinct, rc.server_names.max_length);
      this.limiters.set(rc.id, limiter);
      if (!sniMetricEnabled(rc, hellosDesc)) continue;
      this.plans.set(
        rc.id,
        sniMetricPlan(hellosDesc.attributes, rc.include, {
          [ATTR.SERVER_ADDRESS]: (ev) => (ev.serverName === undefined ? undefined : limiter.bound(ev.serverName)),
        }),
      );
    }
    const observables: Observable[] = [];
    let hellos: Observable | undefined;
    let rejections: Observable | undefined;
    if (this.plans.size > 0) observables.push((hellos = createObservable(meter, hellosDesc)));
    const rejecting = opts.receivers.filter((rc) => sniMetricEnabled(rc, rejectDesc)).map((rc) => rc.id);
    if (rejecting.length > 0) observables.push((rejections = createObservable(meter, rejectDesc)));
    if (observables.length === 0) return;
    meter.addBatchObservableCallback((observer) => {
      if (hellos) for (const s of this.hellos.series.values()) observer.observe(hellos, s.value, s.attrs);
      if (!rejections) return;
      const stats = opts.probeStats();
      const byReason = new Map<string, number>();
      for (const id of rejecting) {
        for (const [reason, n] of Object.entries(stats[id]?.rejections ?? {})) if (n > 0) byReason.set(reason, (byReason.get(reason) ?? 0) + n);
      }
      for (const [reason, n] of byReason) observer.observe(rejections, n, { [ATTR.ERROR_TYPE]: reason });
    }, observables);
  }

  state(): SniMetricsState {
    return { hellos: this.hellos, limiters: this.limiters };
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'sni' || ev.kind !== 'client_hello') return;
    const plan = this.plans.get(ev.receiver);
    if (!plan) return;
    this.hellos.add(plan.key(ev), plan, ev, 1);
  }
}
