// What flows through pipelines: enriched events from every receiver, discriminated by `source`
// (the receiver type). Each receiver declares its event in its folder (pipeline-event.ts).
import type { ReceiverEventOf, RECEIVERS } from '../components';

export type { ConnPipelineEvent } from '../receivers/connections/pipeline-event';
export type { SniPipelineEvent } from '../receivers/sni/pipeline-event';
export type { PacketFateCountEvent, PacketFatePipelineEvent, PacketFateSampleEvent } from '../receivers/packet_fate/pipeline-event';

/** Every receiver's event, derived from the component list (src/components.ts). */
export type PipelineEvent = ReceiverEventOf<typeof RECEIVERS>;

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
