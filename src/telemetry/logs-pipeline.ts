// One logs pipeline: a LoggerProvider with a bounded batch processor per exporter, and the
// receivers' log-record sinks on its logger.
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { PipelineConfig } from '../config/types';
import type { EventSink } from '../pipeline/event';
import type { TelemetryContext } from './context';
import { watchLogExporter } from './export-health';
import { buildLogSink } from './exporters';
import { BoundedLogProcessor, LOG_QUEUE_CAPACITY, RetainingLogExporter, settleExports } from './log-queue';
import { buildLogSources } from './sources';

// Log batches go out at least this often; shorter when the metrics interval is (tests).
const MAX_LOG_DELAY_MS = 1000;

export interface LogsPipeline {
  readonly provider: LoggerProvider;
  /** Where processors' log records are emitted on this pipeline. */
  readonly logger: OtelLogger;
  /** The receivers' sinks: the end of the pipeline. */
  readonly sink: EventSink;
}

export function buildLogsPipeline(ctx: TelemetryContext, p: PipelineConfig): LogsPipeline {
  const processors: LogRecordProcessor[] = ctx.exportersOf(p).map((id) => {
    const sink = buildLogSink(ctx.exporterConfig(p, id), { debugWrite: ctx.debugWrite });
    const health = ctx.healthFor(id, 'logs', sink.endpoint, sink.secrets);
    const counts = ctx.self.exportCounts(id, 'logs', sink.componentType);
    let bounded: BoundedLogProcessor | undefined = undefined;
    const batch = new BatchLogRecordProcessor({
      exporter: settleExports(new RetainingLogExporter(watchLogExporter(sink.exporter, health), LOG_QUEUE_CAPACITY, counts), sink.timeoutMs, (n) =>
        bounded?.settled(n),
      ),
      scheduledDelayMillis: Math.min(MAX_LOG_DELAY_MS, ctx.interval),
      exportTimeoutMillis: sink.timeoutMs,
      maxQueueSize: LOG_QUEUE_CAPACITY,
    });
    bounded = new BoundedLogProcessor(batch, LOG_QUEUE_CAPACITY, counts);
    return bounded;
  });
  const provider = new LoggerProvider({ resource: ctx.resource, processors });
  const logger = provider.getLogger(ctx.scope.name, ctx.scope.version, { schemaUrl: ctx.scope.schemaUrl });
  return { provider, logger, sink: buildLogSources(logger, ctx.receiversOf(p), ctx.log) };
}
