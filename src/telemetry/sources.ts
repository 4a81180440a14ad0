// Which telemetry each receiver type produces: per receiver type, a metrics sink (aggregating
// tables the SDK reads at collection) and a logs sink, from the runtime half of its factory in
// src/components.ts (nothing to add here for a new receiver type).
import type { Meter } from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import { RECEIVERS, type ReceiverType } from '../components';
import type { ReceiverConfig } from '../config/types';
import type { ProbeStats } from '../kernel/probe-stats';
import type { Logger } from '../log';
import type { EventSink, PipelineEvent } from '../pipeline/event';
import type { HistogramProducer } from './histogram-producer';

export type { ReceiverType };

/** What every metrics sink is built with. */
export interface MetricSourceContext {
  meter: Meter;
  /** Pre-bucketed histograms go here (see histogram-producer.ts). */
  producer: HistogramProducer;
  cardinalityLimit: number;
  /** Called for every measurement folded into an overflow series. */
  onOverflow: (metric: string) => void;
  log: Logger;
  /** Stats of the running receivers by id, read at collection (counts a probe keeps itself). */
  probeStats: () => Readonly<Record<string, ProbeStats>>;
}

/** A metrics sink whose cumulative state can be handed to the next incarnation (hot reload). */
export interface MetricSource extends EventSink {
  state(): unknown;
}

/** What this module asks of a receiver type's factory (src/receivers/factory.ts). */
interface SinkFactories {
  metrics(ctx: MetricSourceContext, receivers: readonly ReceiverConfig[], carry: unknown): MetricSource;
  logs(logger: OtelLogger, receivers: readonly ReceiverConfig[], log: Logger): EventSink;
}

/** The sinks of a receiver type, for configs of that type (the table guarantees the match). */
function runtimeOf(type: ReceiverType): SinkFactories {
  return RECEIVERS[type];
}

/** Carried state of one metrics pipeline: receiver type → its sink's state. */
export type PipelineCarry = ReadonlyMap<ReceiverType, unknown>;

/** The pipeline's receivers grouped by type, in first-seen order. */
function byType(receivers: readonly ReceiverConfig[]): Map<ReceiverType, ReceiverConfig[]> {
  const out = new Map<ReceiverType, ReceiverConfig[]>();
  for (const r of receivers) {
    const list = out.get(r.type) ?? [];
    list.push(r);
    out.set(r.type, list);
  }
  return out;
}

/** Routes each event to the sink of its source (events carry their receiver type as `source`). */
class SourceRouter implements EventSink {
  constructor(private readonly sinks: ReadonlyMap<string, EventSink>) {}
  consume(ev: PipelineEvent): void {
    this.sinks.get(ev.source)?.consume(ev);
  }
}

export interface MetricsRouter extends EventSink {
  state(): PipelineCarry;
}

export function buildMetricSources(ctx: MetricSourceContext, receivers: readonly ReceiverConfig[], carry: PipelineCarry | undefined): MetricsRouter {
  const sinks = new Map<ReceiverType, MetricSource>();
  for (const [type, list] of byType(receivers)) {
    sinks.set(type, runtimeOf(type).metrics(ctx, list, carry?.get(type)));
  }
  const router = new SourceRouter(sinks);
  return {
    consume: (ev) => router.consume(ev),
    state: () => new Map([...sinks].map(([type, s]) => [type, s.state()])),
  };
}

export function buildLogSources(logger: OtelLogger, receivers: readonly ReceiverConfig[], log: Logger): EventSink {
  const sinks = new Map<ReceiverType, EventSink>();
  for (const [type, list] of byType(receivers)) {
    sinks.set(type, runtimeOf(type).logs(logger, list, log));
  }
  return new SourceRouter(sinks);
}
