// Which telemetry each receiver type produces: per receiver type, a metrics sink (aggregating
// tables the SDK reads at collection) and a logs sink. A new receiver type is one line in each
// table; the mapped types make the compiler ask for it once the type joins ReceiverConfig.
import type { Meter } from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { ReceiverConfig } from '../config/types';
import type { Logger } from '../log';
import type { EventSink, PipelineEvent } from '../pipeline/event';
import { ConnLogs } from '../receivers/connections/logs';
import { ConnMetrics, type ConnMetricsState } from '../receivers/connections/metrics';
import type { HistogramProducer } from './histogram-producer';
import type { ProbeStats } from '../receivers/receiver';
import { SniLogs } from '../receivers/sni/logs';
import { SniMetrics, type SniMetricsState } from '../receivers/sni/metrics';
import { PacketFateLogs } from '../receivers/packet_fate/logs';
import { PacketFateMetrics, type PacketFateMetricsState } from '../receivers/packet_fate/metrics';

export type ReceiverType = ReceiverConfig['type'];
type ConfigOf<K extends ReceiverType> = Extract<ReceiverConfig, { type: K }>;

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

/** The cumulative state each receiver type's metrics sink carries over a reload. */
interface CarryStates {
  connections: ConnMetricsState;
  sni: SniMetricsState;
  packet_fate: PacketFateMetricsState;
}

type MetricFactories = {
  readonly [K in ReceiverType]: (ctx: MetricSourceContext, receivers: readonly ConfigOf<K>[], carry: CarryStates[K] | undefined) => MetricSource;
};
type LogFactories = {
  readonly [K in ReceiverType]: (logger: OtelLogger, receivers: readonly ConfigOf<K>[], log: Logger) => EventSink;
};

export const METRIC_SOURCES: MetricFactories = {
  connections: (ctx, receivers, carry) => new ConnMetrics(ctx.meter, ctx.producer, { ...ctx, receivers, carry }),
  sni: (ctx, receivers, carry) => new SniMetrics(ctx.meter, { ...ctx, receivers, carry }),
  packet_fate: (ctx, receivers, carry) => new PacketFateMetrics(ctx.meter, { ...ctx, receivers, carry }),
};

export const LOG_SOURCES: LogFactories = {
  connections: (logger, receivers, log) => new ConnLogs(logger, receivers, log),
  sni: (logger, receivers, log) => new SniLogs(logger, receivers, log),
  packet_fate: (logger, receivers) => new PacketFateLogs(logger, receivers),
};

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
    const make = METRIC_SOURCES[type] as (c: MetricSourceContext, r: readonly ReceiverConfig[], s: unknown) => MetricSource;
    sinks.set(type, make(ctx, list, carry?.get(type)));
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
    const make = LOG_SOURCES[type] as (l: OtelLogger, r: readonly ReceiverConfig[], lg: Logger) => EventSink;
    sinks.set(type, make(logger, list, log));
  }
  return new SourceRouter(sinks);
}
