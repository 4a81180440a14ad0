// The connections receiver's metrics: every figure was counted in the kernel (bpf/conn/count.h)
// and arrives once per interval as counter rows (`count` events, enriched like any other); they are
// added to plain-JS cumulative tables (aggregate.ts) that the SDK reads once per collection
// through one batch observable callback, histograms through a producer. The ring's records feed
// logs and the query window only, so a full ring never makes a metric wrong.
import type { Meter, Observable } from '@opentelemetry/api';
import type { ConnectionsReceiverConfig } from './config';
import { InternalError } from '../../errors';
import type { Logger } from '../../log';
import type { ConnPipelineEvent, EventSink, PipelineEvent } from '../../pipeline/event';
import type { KernelHistogram } from './event';
import { nowBootNs } from '../../enrich/clock';
import type { ValueRange } from '../../pipeline/exponential-histogram';
import { HistogramTable, OVERFLOW_ATTRIBUTES, sameBoundaries, SumTable } from '../../pipeline/aggregate';
import { connIoPlan, connMetricPlan, type ConnPlan, histogramBuckets } from './attributes';
import { ATTR, METRIC, METRICS, type MetricDescriptor, type MetricName } from '../../catalogue/generated';
import type { HistogramProducer } from '../../telemetry/histogram-producer';
import { createObservable, observeTables } from '../../telemetry/instruments';

/**
 * What the kernel's histograms can hold (count.h): whole µs of srtt, a u32 that tcp_sock keeps
 * shifted left by 3 (fill.h), and whole ns of a connection's life, which began after boot.
 */
const KERNEL_VALUES: Partial<Record<MetricName, ValueRange>> = {
  [METRIC.CONNECTION_RTT]: { unit: 1e-6, most: () => (0xffffffff >>> 3) / 1e6 },
  [METRIC.CONNECTION_DURATION]: { unit: 1e-9, most: () => nowBootNs() / 1e9 },
};

/** The series rows go to when the kernel's table for an interval was full. */
const KERNEL_OVERFLOW_KEY = '\x00kernel-overflow';

export const CONN_METRICS: readonly MetricDescriptor[] = Object.values(METRICS).filter((m) => m.source === 'connections');

/** Whether a receiver's `metrics` map (falling back to the catalogue default) turns a metric on. */
export function metricEnabled(rc: ConnectionsReceiverConfig, m: MetricDescriptor): boolean {
  return rc.metrics[m.name]?.enabled ?? m.enabled;
}

interface ReceiverPlans {
  plans: Map<MetricName, ConnPlan>;
  /** Series of netwatch.connection.active this receiver's rows set: zeroed when its next collection begins. */
  activeKeys: Set<string>;
  /** `netwatch.connection.io` for received bytes (its plan in `plans` counts transmitted ones). */
  ioReceive?: ConnPlan;
}

/** What a reloaded configuration carries over so cumulative counters survive it. */
export interface ConnMetricsState {
  readonly sums: ReadonlyMap<MetricName, SumTable>;
  readonly histograms: ReadonlyMap<MetricName, HistogramTable>;
  /**
   * Per receiver, the netwatch.connection.active series its last collection set: the receiver's
   * next `begin` (after the reload) replaces them, as it would have without one.
   */
  readonly activeKeys: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface ConnMetricsOptions {
  receivers: readonly ConnectionsReceiverConfig[];
  /** State of the pipeline's previous incarnation (hot reload). */
  carry?: ConnMetricsState;
  cardinalityLimit: number;
  /** Called for every measurement folded into an overflow series. */
  onOverflow: (metric: string) => void;
  log: Logger;
}

export class ConnMetrics implements EventSink {
  private readonly byReceiver = new Map<string, ReceiverPlans>();
  private readonly sums = new Map<MetricName, SumTable>();
  private readonly histograms = new Map<MetricName, HistogramTable>();

  constructor(meter: Meter, producer: HistogramProducer, opts: ConnMetricsOptions) {
    const wanted = CONN_METRICS.filter((m) => opts.receivers.some((rc) => metricEnabled(rc, m)));
    for (const rc of opts.receivers) {
      const rp: ReceiverPlans = { plans: new Map(), activeKeys: new Set(opts.carry?.activeKeys.get(rc.id)) };
      // Metrics with the same attribute list share one plan, so a row's key is built once for all of them.
      const shared = new Map<string, ConnPlan>();
      for (const m of wanted) {
        if (!metricEnabled(rc, m)) continue;
        const plan = m.name === METRIC.CONNECTION_IO ? connIoPlan(m.attributes, rc.include, 'transmit') : connMetricPlan(m.attributes, rc.include);
        const sig = plan.names.join(',');
        if (!shared.has(sig)) shared.set(sig, plan);
        rp.plans.set(m.name, shared.get(sig)!);
        if (m.name === METRIC.CONNECTION_IO) rp.ioReceive = connIoPlan(m.attributes, rc.include, 'receive');
      }
      this.byReceiver.set(rc.id, rp);
    }
    const observables: [Observable, SumTable][] = [];
    for (const m of wanted) {
      switch (m.instrument) {
        case 'histogram': {
          const buckets = histogramBuckets(m, opts.receivers);
          const old = opts.carry?.histograms.get(m.name);
          const t =
            old && sameBoundaries(old.boundaries, buckets)
              ? old
              : new HistogramTable(m.name, opts.cardinalityLimit, opts.onOverflow, buckets, KERNEL_VALUES[m.name]);
          this.histograms.set(m.name, t);
          producer.add(m, t);
          break;
        }
        case 'counter':
        case 'updowncounter':
        case 'gauge': {
          const t = opts.carry?.sums.get(m.name) ?? new SumTable(m.name, opts.cardinalityLimit, opts.onOverflow);
          this.sums.set(m.name, t);
          observables.push([createObservable(meter, m), t]);
          break;
        }
        default:
          throw new InternalError(`unknown instrument ${String((m as { instrument: unknown }).instrument)}`);
      }
    }
    observeTables(meter, observables);
    // A receiver the reload removed sends no more collections: its open sockets are no longer known.
    for (const [id, keys] of opts.carry?.activeKeys ?? []) {
      if (!this.byReceiver.has(id)) this.resetActive({ plans: new Map(), activeKeys: new Set(keys) });
    }
  }

  state(): ConnMetricsState {
    return { sums: this.sums, histograms: this.histograms, activeKeys: new Map([...this.byReceiver].map(([id, rp]) => [id, rp.activeKeys])) };
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'connections' || ev.kind !== 'count' || ev.counts === undefined) return;
    const rp = this.byReceiver.get(ev.receiver);
    if (!rp) return;
    const c = ev.counts;
    switch (c.row) {
      case 'begin':
        this.resetActive(rp);
        return;
      case 'conn':
        this.add(rp, METRIC.CONNECTION_OPENED, ev, c.opened);
        this.add(rp, METRIC.CONNECTION_IO, ev, c.bytesSent);
        this.add(rp, METRIC.CONNECTION_IO, ev, c.bytesReceived, rp.ioReceive);
        this.merge(rp, METRIC.CONNECTION_DURATION, ev, c.duration);
        this.merge(rp, METRIC.CONNECTION_RTT, ev, c.rtt);
        return;
      case 'failed':
        this.add(rp, METRIC.CONNECTION_FAILED, ev, c.failed);
        return;
      case 'active': {
        const plan = rp.plans.get(METRIC.CONNECTION_ACTIVE);
        if (!plan || c.active === 0) return;
        rp.activeKeys.add(this.sums.get(METRIC.CONNECTION_ACTIVE)!.add(plan.key(ev), plan, ev, c.active));
        return;
      }
      case 'transitions':
        this.add(rp, METRIC.CONNECTION_STATE_TRANSITIONS, ev, c.transitions);
        return;
      case 'overflow':
        this.overflow(rp, ev);
        return;
    }
  }

  /** A new collection: the open sockets it counts replace the previous one's. */
  private resetActive(rp: ReceiverPlans): void {
    const t = this.sums.get(METRIC.CONNECTION_ACTIVE);
    if (!t) return;
    for (const key of rp.activeKeys) {
      const s = t.series.get(key);
      if (s) s.value = 0;
    }
    rp.activeKeys.clear();
  }

  private add(rp: ReceiverPlans, metric: MetricName, ev: ConnPipelineEvent, n: number, plan = rp.plans.get(metric)): void {
    if (n === 0 || !plan) return;
    this.sums.get(metric)!.add(plan.key(ev), plan, ev, n);
  }

  private merge(rp: ReceiverPlans, metric: MetricName, ev: ConnPipelineEvent, h: KernelHistogram | undefined): void {
    if (!h || h.count === 0) return;
    const plan = rp.plans.get(metric);
    if (!plan) return;
    this.histograms.get(metric)!.merge(plan.key(ev), plan, ev, h.buckets, h.sum, h.count);
  }

  /** Rows the kernel could not give attributes to (its table was full): counted, in the overflow series. */
  private overflow(rp: ReceiverPlans, ev: ConnPipelineEvent): void {
    const c = ev.counts!;
    const addTo = (metric: MetricName, n: number, key = KERNEL_OVERFLOW_KEY, attrs = OVERFLOW_ATTRIBUTES): void => {
      if (n === 0 || !rp.plans.has(metric)) return;
      const landed = this.sums.get(metric)!.addWithAttributes(key, () => attrs, n);
      if (metric === METRIC.CONNECTION_ACTIVE) rp.activeKeys.add(landed);
    };
    addTo(METRIC.CONNECTION_OPENED, c.opened);
    addTo(METRIC.CONNECTION_FAILED, c.failed);
    addTo(METRIC.CONNECTION_ACTIVE, c.active);
    // Bytes keep their direction even without the other attributes.
    addTo(METRIC.CONNECTION_IO, c.bytesSent, `${KERNEL_OVERFLOW_KEY}transmit`, { ...OVERFLOW_ATTRIBUTES, [ATTR.NETWORK_IO_DIRECTION]: 'transmit' });
    addTo(METRIC.CONNECTION_IO, c.bytesReceived, `${KERNEL_OVERFLOW_KEY}receive`, { ...OVERFLOW_ATTRIBUTES, [ATTR.NETWORK_IO_DIRECTION]: 'receive' });
    for (const [metric, h] of [
      [METRIC.CONNECTION_DURATION, c.duration],
      [METRIC.CONNECTION_RTT, c.rtt],
    ] as const) {
      if (h && h.count > 0 && rp.plans.has(metric))
        this.histograms.get(metric)!.mergeWithAttributes(KERNEL_OVERFLOW_KEY, OVERFLOW_ATTRIBUTES, h.buckets, h.sum, h.count);
    }
  }
}
