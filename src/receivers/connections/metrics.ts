// The connections receiver's metrics: events update plain-JS tables (aggregate.ts); the SDK reads
// them once per collection through one batch observable callback, histograms through a producer.
import type { Meter, Observable } from '@opentelemetry/api';
import type { ConnectionsReceiverConfig } from './config';
import { InternalError } from '../../errors';
import type { Logger } from '../../log';
import type { ConnPipelineEvent, EventSink, PipelineEvent } from '../../pipeline/event';
import type { TcpState } from './event';
import { HistogramTable, sameBoundaries, SumTable } from '../../pipeline/aggregate';
import { MAX_INTERNED_KEYS } from '../../telemetry/attribute-plan';
import { AFTER_ESTABLISHED, connIoPlan, connMetricPlan, type ConnPlan, histogramBuckets } from './attributes';
import { ATTR, METRIC, METRICS, type MetricDescriptor, type MetricName } from '../../catalogue/generated';
import type { HistogramProducer } from '../../telemetry/histogram-producer';
import { createObservable, observeTables } from '../../telemetry/instruments';

// Sockets whose close events were lost would otherwise accumulate forever.
const MAX_TRACKED_SOCKETS = 262_144;

export const CONN_METRICS: readonly MetricDescriptor[] = Object.values(METRICS).filter((m) => m.source === 'connections');

/** Whether a receiver's `metrics` map (falling back to the catalogue default) turns a metric on. */
export function metricEnabled(rc: ConnectionsReceiverConfig, m: MetricDescriptor): boolean {
  return rc.metrics[m.name]?.enabled ?? m.enabled;
}

interface ReceiverPlans {
  plans: Map<MetricName, ConnPlan>;
  /** `netwatch.connection.active` minus its state attribute: the state is prepended per transition. */
  activeBase?: ConnPlan;
  /** `netwatch.connection.io` for received bytes (its plan in `plans` counts transmitted ones). */
  ioReceive?: ConnPlan;
}

export interface TrackedSocket {
  /** Key of the series the socket is counted in (possibly the overflow series). */
  key: string;
  baseKey: string;
  base: () => Record<string, unknown>;
  established: boolean;
  /** Series keys per state, built once per socket: the same string object hashes once. */
  stateKeys: Partial<Record<TcpState, string>>;
}

type SharedBase = Pick<TrackedSocket, 'base' | 'stateKeys'>;

/** What a reloaded configuration carries over so cumulative counters and open sockets survive it. */
export interface ConnMetricsState {
  readonly sums: ReadonlyMap<MetricName, SumTable>;
  readonly histograms: ReadonlyMap<MetricName, HistogramTable>;
  readonly sockets: Map<bigint, TrackedSocket>;
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
  private readonly sockets: Map<bigint, TrackedSocket>;
  private readonly bases = new Map<string, SharedBase>();
  private warnedSocketCap = false;

  constructor(
    meter: Meter,
    producer: HistogramProducer,
    private readonly opts: ConnMetricsOptions,
  ) {
    this.sockets = opts.carry?.sockets ?? new Map<bigint, TrackedSocket>();
    const wanted = CONN_METRICS.filter((m) => opts.receivers.some((rc) => metricEnabled(rc, m)));
    for (const rc of opts.receivers) {
      const rp: ReceiverPlans = { plans: new Map() };
      // Metrics with the same attribute list share one plan, so an event's key is built once for all of them.
      const shared = new Map<string, ConnPlan>();
      for (const m of wanted) {
        if (!metricEnabled(rc, m)) continue;
        const plan = m.name === METRIC.CONNECTION_IO ? connIoPlan(m.attributes, rc.include, 'transmit') : connMetricPlan(m.attributes, rc.include);
        const sig = plan.names.join(',');
        if (!shared.has(sig)) shared.set(sig, plan);
        rp.plans.set(m.name, shared.get(sig)!);
        if (m.name === METRIC.CONNECTION_ACTIVE) rp.activeBase = connMetricPlan(m.attributes, rc.include, [ATTR.NETWORK_CONNECTION_STATE]);
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
          const t = old && sameBoundaries(old.boundaries, buckets) ? old : new HistogramTable(m.name, opts.cardinalityLimit, opts.onOverflow, buckets);
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
  }

  state(): ConnMetricsState {
    return { sums: this.sums, histograms: this.histograms, sockets: this.sockets };
  }

  consume(ev: PipelineEvent): void {
    if (ev.source !== 'connections') return;
    const rp = this.byReceiver.get(ev.receiver);
    if (!rp) return;
    switch (ev.kind) {
      case 'connect':
        this.add(rp, METRIC.CONNECTION_OPENED, ev, 1);
        break;
      case 'accept':
        this.add(rp, METRIC.CONNECTION_OPENED, ev, 1);
        // accept runs in the owner's context: its attributes beat those of the earlier softirq state events.
        this.track(rp, ev, 'established', true);
        break;
      case 'existing':
        this.track(rp, ev, ev.newState, false);
        break;
      case 'state':
        this.add(rp, METRIC.CONNECTION_STATE_TRANSITIONS, ev, 1);
        this.track(rp, ev, ev.newState, false);
        break;
      case 'close':
        this.add(rp, METRIC.CONNECTION_STATE_TRANSITIONS, ev, 1);
        this.close(rp, ev);
        break;
    }
  }

  /** Series key of `ev` under `plan`, computed once per event even when several metrics share the plan. */
  private keyOf(plan: ConnPlan, ev: ConnPipelineEvent): string {
    if (plan.keyedEvent !== ev) {
      plan.keyedKey = plan.key(ev);
      plan.keyedEvent = ev;
    }
    return plan.keyedKey;
  }

  private add(rp: ReceiverPlans, metric: MetricName, ev: ConnPipelineEvent, n: number, plan = rp.plans.get(metric)): void {
    if (!plan) return;
    this.sums.get(metric)!.add(this.keyOf(plan, ev), plan, ev, n);
  }

  private record(rp: ReceiverPlans, metric: MetricName, ev: ConnPipelineEvent, v: number): void {
    const plan = rp.plans.get(metric);
    if (!plan) return;
    this.histograms.get(metric)!.record(this.keyOf(plan, ev), plan, ev, v);
  }

  /** Moves the socket into the `state` series of netwatch.connection.active (TCP only: UDP never closes here). */
  private track(rp: ReceiverPlans, ev: ConnPipelineEvent, state: TcpState, rebase: boolean): void {
    if (ev.transport !== 'tcp') return;
    let s = this.sockets.get(ev.sock);
    const active = this.sums.get(METRIC.CONNECTION_ACTIVE);
    const established = AFTER_ESTABLISHED.has(state);
    if (!s) {
      if (this.sockets.size >= MAX_TRACKED_SOCKETS) {
        if (!this.warnedSocketCap)
          this.opts.log.warn(`tracking ${MAX_TRACKED_SOCKETS} open sockets; newer ones are not counted in ${METRIC.CONNECTION_ACTIVE}`);
        this.warnedSocketCap = true;
        return;
      }
      s = { key: '', baseKey: '', base: () => ({}), established, stateKeys: {} };
      this.sockets.set(ev.sock, s);
      rebase = true;
    } else if (s.key !== '' && active) {
      active.addExisting(s.key, -1);
    }
    s.established ||= established;
    const base = rp.activeBase;
    if (!active || !base) return;
    if (rebase) {
      s.baseKey = base.key(ev);
      const shared = this.sharedBase(s.baseKey, base, ev);
      s.base = shared.base;
      s.stateKeys = shared.stateKeys;
    }
    const key = (s.stateKeys[state] ??= `${state}\x1e${s.baseKey}`);
    if (active.addPresent(key, 1)) {
      s.key = key;
      return;
    }
    const baseAttrs = s.base;
    s.key = active.addWithAttributes(key, () => ({ [ATTR.NETWORK_CONNECTION_STATE]: state, ...baseAttrs() }), 1);
  }

  /**
   * What sockets with the same base key share: its attributes and its per-state series keys, so
   * that each `${state}${baseKey}` string is built (and hashed) once, not once per socket.
   */
  private sharedBase(baseKey: string, plan: ConnPlan, ev: ConnPipelineEvent): SharedBase {
    let b = this.bases.get(baseKey);
    if (b === undefined) {
      if (this.bases.size >= MAX_INTERNED_KEYS) this.bases.clear(); // bounded; sockets keep what they hold
      const attrs = plan.attributes(ev);
      b = { base: () => attrs, stateKeys: {} };
      this.bases.set(baseKey, b);
    }
    return b;
  }

  private close(rp: ReceiverPlans, ev: ConnPipelineEvent): void {
    const s = this.sockets.get(ev.sock);
    if (s) {
      if (s.key !== '') this.sums.get(METRIC.CONNECTION_ACTIVE)?.addExisting(s.key, -1);
      this.sockets.delete(ev.sock);
    }
    const reached = (s?.established ?? false) || AFTER_ESTABLISHED.has(ev.oldState);
    if (ev.error !== 0 && !reached) this.add(rp, METRIC.CONNECTION_FAILED, ev, 1);
    if (ev.bytesSent > 0) this.add(rp, METRIC.CONNECTION_IO, ev, ev.bytesSent);
    if (ev.bytesReceived > 0) this.add(rp, METRIC.CONNECTION_IO, ev, ev.bytesReceived, rp.ioReceive);
    if (reached) {
      if (ev.durationNs > 0) this.record(rp, METRIC.CONNECTION_DURATION, ev, ev.durationNs / 1e9);
      if (ev.srttUs > 0) this.record(rp, METRIC.CONNECTION_RTT, ev, ev.srttUs / 1e6);
    }
  }
}
