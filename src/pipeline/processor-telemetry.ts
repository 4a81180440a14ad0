// What a processor may export about itself (its own metrics and log records), as the pipeline
// layer sees it; src/telemetry/processor-telemetry.ts implements it over the SDK.
import type { LogRecord } from '@opentelemetry/api-logs';
import type { MetricDescriptor } from '../catalogue/generated';
import type { HistogramTable, SumTable } from './aggregate';

export interface ProcessorTelemetry {
  readonly cardinalityLimit: number;
  /** Called for every measurement folded into an overflow series. */
  readonly onOverflow: (metric: string) => void;
  /** Export a cumulative table (counter, up-down counter or gauge, per the descriptor). */
  exportSums(metric: MetricDescriptor, table: SumTable): void;
  exportHistogram(metric: MetricDescriptor, table: HistogramTable): void;
  emit(record: LogRecord): void;
}

/** For processors built outside an agent (tests, tools): nothing is exported. */
export const NO_PROCESSOR_TELEMETRY: ProcessorTelemetry = {
  cardinalityLimit: 2000,
  onOverflow: () => undefined,
  exportSums: () => undefined,
  exportHistogram: () => undefined,
  emit: () => undefined,
};
