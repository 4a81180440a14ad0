// What flows through pipelines: enriched events from every receiver, discriminated by `source`.
import type { EnrichedConnEvent } from '../enrich/types';

export type ConnPipelineEvent = EnrichedConnEvent & { readonly source: 'connections'; readonly receiver: string };

export type PipelineEvent = ConnPipelineEvent;

/** A processor sees every event of its pipeline in order; returning false drops it. */
export interface Processor {
  readonly id: string;
  process(ev: PipelineEvent): boolean;
  shutdown?(): Promise<void>;
}

/** The end of a pipeline: turns events into telemetry (metrics or log records). */
export interface EventSink {
  consume(ev: PipelineEvent): void;
}
