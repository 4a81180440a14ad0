// nomad_autostart's metrics and log records: plain-JS tables (src/telemetry/aggregate.ts) updated
// here and read by the SDK at collection through ProcessorTelemetry; one log record per wake and
// per sleep. A trigger costs one map lookup with a key built at startup.
import type { Attributes } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { type AttributeSource, HistogramTable, SumTable } from '../../aggregate';
import { ATTR, EVENT, EVENTS, METRIC, METRICS, type EventName, type MetricName } from '../../../catalogue/generated';
import type { ProcessorTelemetry } from '../../processor-telemetry';
import { FAILED_OUTCOMES, type Outcome } from './outcomes';
import type { DeferralReason } from './cluster';
import type { CompiledRule, TriggerKind } from './rules';

/** Attributes are built by the caller; the table keeps them for a new series. */
const GIVEN: AttributeSource<Attributes> = { attributes: (a) => a };
const LAZY: AttributeSource<() => Attributes> = { attributes: (f) => f() };

export interface AutostartTelemetryState {
  readonly sums: ReadonlyMap<MetricName, SumTable>;
  readonly histograms: ReadonlyMap<MetricName, HistogramTable>;
}

/** How a SYN hold ended (netwatch.nomad.autostart.hold.outcome). */
export type HoldOutcome = 'listening' | 'failed' | 'timeout' | 'cancelled';

/** What one wake or sleep did, for its log record. */
export interface ActionRecord {
  event: 'wake' | 'sleep';
  rule: CompiledRule;
  trigger: TriggerKind | 'idle';
  reason: string;
  outcome: Outcome;
  clientAddress?: string;
  serverPort?: number;
  count?: number;
  previousCount?: number;
  evalId?: string;
  timeToScaleCallS?: number;
  timeToReadyS?: number;
  ready?: boolean;
  idleForS?: number;
  dryRun: boolean;
  status?: number;
  errorType?: string;
}

export class AutostartTelemetry {
  private readonly sums = new Map<MetricName, SumTable>();
  private readonly histograms = new Map<MetricName, HistogramTable>();
  private readonly triggerKeys = new Map<CompiledRule, Record<TriggerKind, { key: string; attrs: Attributes }>>();

  constructor(
    private readonly processorId: string,
    private readonly out: ProcessorTelemetry,
    carry?: AutostartTelemetryState,
  ) {
    const sum = (name: MetricName): void => {
      const t = carry?.sums.get(name) ?? new SumTable(name, out.cardinalityLimit, out.onOverflow);
      this.sums.set(name, t);
      if (METRICS[name].enabled) out.exportSums(METRICS[name], t);
    };
    const histogram = (name: MetricName): void => {
      const d = METRICS[name];
      const t = carry?.histograms.get(name) ?? new HistogramTable(name, out.cardinalityLimit, out.onOverflow, d.buckets ?? []);
      this.histograms.set(name, t);
      if (d.enabled) out.exportHistogram(d, t);
    };
    sum(METRIC.NOMAD_AUTOSTART_TRIGGERS);
    sum(METRIC.NOMAD_AUTOSTART_WAKES);
    sum(METRIC.NOMAD_AUTOSTART_SLEEPS);
    sum(METRIC.NOMAD_AUTOSTART_SCALE_CALLS);
    sum(METRIC.NOMAD_AUTOSTART_HELD_SYNS);
    sum(METRIC.NOMAD_AUTOSTART_SLEEP_DEFERRALS);
    histogram(METRIC.NOMAD_AUTOSTART_TRIGGER_TO_SCALE_CALL_DURATION);
    histogram(METRIC.NOMAD_AUTOSTART_TRIGGER_TO_READY_DURATION);
    histogram(METRIC.NOMAD_AUTOSTART_SYN_HOLD_DURATION);
  }

  state(): AutostartTelemetryState {
    return { sums: this.sums, histograms: this.histograms };
  }

  /** Hot path: keys and attributes per rule and trigger kind are built once. */
  trigger(rule: CompiledRule, kind: TriggerKind): void {
    let byKind = this.triggerKeys.get(rule);
    if (!byKind) {
      const make = (k: TriggerKind) => ({
        key: `${rule.name}\x1f${k}`,
        attrs: { [ATTR.PROCESSOR]: this.processorId, [ATTR.NOMAD_AUTOSTART_RULE]: rule.name, [ATTR.NOMAD_AUTOSTART_TRIGGER]: k },
      });
      byKind = { sni: make('sni'), syn: make('syn'), connect: make('connect') };
      this.triggerKeys.set(rule, byKind);
    }
    const { key, attrs } = byKind[kind];
    this.sums.get(METRIC.NOMAD_AUTOSTART_TRIGGERS)!.add(key, GIVEN, attrs, 1);
  }

  private targetAttrs(rule: CompiledRule): Attributes {
    return {
      [ATTR.PROCESSOR]: this.processorId,
      [ATTR.NOMAD_AUTOSTART_RULE]: rule.name,
      [ATTR.NOMAD_JOB]: rule.cfg.job,
      [ATTR.NOMAD_GROUP]: rule.cfg.group,
      [ATTR.NOMAD_NAMESPACE]: rule.cfg.namespace,
    };
  }

  outcome(event: 'wake' | 'sleep', rule: CompiledRule, outcome: Outcome): void {
    const metric = event === 'wake' ? METRIC.NOMAD_AUTOSTART_WAKES : METRIC.NOMAD_AUTOSTART_SLEEPS;
    this.sums.get(metric)!.add(`${rule.name}\x1f${outcome}`, LAZY, () => ({ ...this.targetAttrs(rule), [ATTR.NOMAD_AUTOSTART_OUTCOME]: outcome }), 1);
  }

  /** One scale request's answer: an HTTP status, or the kind of failure when there was none. */
  scaleCall(rule: CompiledRule, status: number | undefined, errorType: string | undefined): void {
    const key = `${rule.name}\x1f${status ?? ''}\x1f${status === undefined ? (errorType ?? '') : ''}`;
    this.sums.get(METRIC.NOMAD_AUTOSTART_SCALE_CALLS)!.add(
      key,
      LAZY,
      () => ({
        ...this.targetAttrs(rule),
        ...(status !== undefined ? { [ATTR.HTTP_RESPONSE_STATUS_CODE]: status } : { [ATTR.ERROR_TYPE]: errorType ?? 'unknown' }),
      }),
      1,
    );
  }

  timeToScaleCall(rule: CompiledRule, seconds: number): void {
    this.histograms.get(METRIC.NOMAD_AUTOSTART_TRIGGER_TO_SCALE_CALL_DURATION)!.record(rule.name, LAZY, () => this.targetAttrs(rule), seconds);
  }

  timeToReady(rule: CompiledRule, seconds: number): void {
    this.histograms.get(METRIC.NOMAD_AUTOSTART_TRIGGER_TO_READY_DURATION)!.record(rule.name, LAZY, () => this.targetAttrs(rule), seconds);
  }

  /** A look at an idle group of `rule` that did not put it to sleep, and why. */
  sleepDeferred(rule: CompiledRule, reason: DeferralReason): void {
    this.sums
      .get(METRIC.NOMAD_AUTOSTART_SLEEP_DEFERRALS)!
      .add(`${rule.name}\x1f${reason}`, LAZY, () => ({ ...this.targetAttrs(rule), [ATTR.NOMAD_AUTOSTART_DEFERRAL_REASON]: reason }), 1);
  }

  /** SYNs a hold of `rule` dropped since the last count. */
  heldSyns(rule: CompiledRule, n: number): void {
    this.sums.get(METRIC.NOMAD_AUTOSTART_HELD_SYNS)!.add(rule.name, LAZY, () => this.targetAttrs(rule), n);
  }

  holdEnded(rule: CompiledRule, outcome: HoldOutcome, seconds: number): void {
    this.histograms
      .get(METRIC.NOMAD_AUTOSTART_SYN_HOLD_DURATION)!
      .record(`${rule.name}\x1f${outcome}`, LAZY, () => ({ ...this.targetAttrs(rule), [ATTR.NOMAD_AUTOSTART_HOLD_OUTCOME]: outcome }), seconds);
  }

  /** A log record per wake and per sleep, carrying every fact it has. */
  emit(r: ActionRecord): void {
    const name: EventName = r.event === 'wake' ? EVENT.NOMAD_AUTOSTART_WAKE : EVENT.NOMAD_AUTOSTART_SLEEP;
    const d = EVENTS[name];
    if (!d.enabled) return;
    const attrs: Attributes = {
      ...this.targetAttrs(r.rule),
      [ATTR.NOMAD_AUTOSTART_TRIGGER]: r.trigger,
      [ATTR.NOMAD_AUTOSTART_REASON]: r.reason,
      [ATTR.NOMAD_AUTOSTART_OUTCOME]: r.outcome,
      [ATTR.NOMAD_AUTOSTART_DRY_RUN]: r.dryRun,
    };
    const opt = (k: string, v: string | number | boolean | undefined): void => {
      if (v !== undefined && v !== '') attrs[k] = v;
    };
    opt(ATTR.CLIENT_ADDRESS, r.clientAddress);
    opt(ATTR.SERVER_PORT, r.serverPort);
    opt(ATTR.NOMAD_AUTOSTART_COUNT, r.count);
    opt(ATTR.NOMAD_AUTOSTART_PREVIOUS_COUNT, r.previousCount);
    opt(ATTR.NOMAD_EVAL_ID, r.evalId);
    opt(ATTR.NOMAD_AUTOSTART_TRIGGER_TO_SCALE_CALL_DURATION, r.timeToScaleCallS);
    opt(ATTR.NOMAD_AUTOSTART_TRIGGER_TO_READY_DURATION, r.timeToReadyS);
    opt(ATTR.NOMAD_AUTOSTART_READY, r.ready);
    opt(ATTR.NOMAD_AUTOSTART_IDLE_DURATION, r.idleForS);
    opt(ATTR.HTTP_RESPONSE_STATUS_CODE, r.status);
    opt(ATTR.ERROR_TYPE, r.errorType);
    const failed = FAILED_OUTCOMES.has(r.outcome);
    this.out.emit({
      eventName: d.name,
      timestamp: Date.now(),
      severityNumber: failed ? SeverityNumber.WARN : d.severityNumber,
      severityText: failed ? 'WARN' : d.severityText,
      body: `${r.event} ${r.rule.cfg.namespace}/${r.rule.cfg.job}/${r.rule.cfg.group}: ${r.outcome} (${r.reason})`,
      attributes: attrs,
    });
  }
}
