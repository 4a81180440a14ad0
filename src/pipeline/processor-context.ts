// What a processor is built with besides its configuration.
import type { ProcessorTelemetry } from './processor-telemetry';
import type { Processor } from './event';

export interface ProcessorContext {
  /** Its own metrics and log records, exported by the pipelines that list it. */
  readonly telemetry: ProcessorTelemetry;
  /** The instance with the same id before a reload: state worth keeping (counters, open connections, woken groups) may be adopted from it. */
  readonly previous?: Processor;
}
