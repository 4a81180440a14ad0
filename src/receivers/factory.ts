// What a receiver type contributes to the agent, on the OpenTelemetry Collector's component model:
// one factory per src/receivers/<type>/index.ts, listed once in src/components.ts. The config half
// loads eagerly (the loader and `netwatch validate` need it); create, metrics and logs each load
// their module on first call, so validating a file never opens libbpf and building telemetry never
// loads a probe.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { ComponentDefinition } from '../config/component';
import type { Logger } from '../log';
import type { EventSink } from '../pipeline/event';
import type { MetricSource, MetricSourceContext } from '../telemetry/sources';
import type { Receiver, ReceiverContext } from './receiver';

/** What every receiver's settings share. */
export interface ReceiverConfigBase {
  type: string;
  id: string;
}

/** What every receiver's pipeline events share: `source` is the receiver type. */
export interface ReceiverEventBase {
  readonly source: string;
  readonly receiver: string;
}

export interface ReceiverFactory<C extends ReceiverConfigBase, E extends ReceiverEventBase, S> {
  readonly type: C['type'];
  /** The config schema (every key with doc, format, default) and its validation into `C`. */
  readonly config: ComponentDefinition<C>;
  /** Its receivers offer kernel maps to others (Receiver.sharedMaps): the agent starts them first. */
  readonly sharesMaps?: boolean;
  /** Its receivers read the conn probe's `owners` map (classic tracepoints cannot read socket-local storage): the conn probe fills it only while one runs. */
  readonly readsSocketOwners?: boolean;
  /** A receiver (load, attach, read; `update` in place when it can; stop). */
  create(id: string, rc: C, ctx: ReceiverContext): Receiver;
  /** The metrics sink of one metrics pipeline for all its receivers of this type; `carry` is the previous incarnation's state (reload). */
  metrics(ctx: MetricSourceContext, receivers: readonly C[], carry: S | undefined): MetricSource;
  /** The log-record sink of one logs pipeline for all its receivers of this type. */
  logs(logger: OtelLogger, receivers: readonly C[], log: Logger): EventSink;
  /** Types only, never set: what the derived unions read (config, event, carried metric state). */
  readonly types?: { readonly config: C; readonly event: E; readonly state: S };
}

type TypesOf<F> = F extends { readonly types?: infer T } ? NonNullable<T> : never;

/** The union of the configurations of a table of receiver factories. */
export type ReceiverConfigOf<T> = { [K in keyof T]: TypesOf<T[K]> extends { config: infer C } ? C : never }[keyof T];
/** The union of the pipeline events of a table of receiver factories. */
export type ReceiverEventOf<T> = { [K in keyof T]: TypesOf<T[K]> extends { event: infer E } ? E : never }[keyof T];
