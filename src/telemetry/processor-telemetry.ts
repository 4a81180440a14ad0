// How a processor's own telemetry reaches the SDK: the processor keeps plain-JS tables
// (aggregate.ts) and hands them over once; every metrics pipeline that lists the processor reads
// them at collection (one batch callback, histograms through its producer). Log records go to
// every logs pipeline that lists it. No SDK call happens per pipeline event.
import type { Meter } from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { ProcessorTelemetry } from '../pipeline/processor-telemetry';
import type { HistogramProducer } from './histogram-producer';
import { createObservable, observeTables } from './instruments';

export interface MetricsPipelineHandle {
  meter: Meter;
  producer: HistogramProducer;
}

/** One processor's telemetry over the pipelines that list it. */
export function processorTelemetry(
  metrics: readonly MetricsPipelineHandle[],
  loggers: readonly OtelLogger[],
  cardinalityLimit: number,
  onOverflow: (metric: string) => void,
): ProcessorTelemetry {
  return {
    cardinalityLimit,
    onOverflow,
    exportSums(m, table) {
      for (const { meter } of metrics) observeTables(meter, [[createObservable(meter, m), table]]);
    },
    exportHistogram(m, table) {
      for (const { producer } of metrics) producer.add(m, table);
    },
    emit(record) {
      for (const l of loggers) l.emit(record);
    },
  };
}
