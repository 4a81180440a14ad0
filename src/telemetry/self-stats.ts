// The agent's own counts that telemetry keeps while it runs: what each exporter delivered or failed
// to, log records turned away at a full queue, measurements folded into overflow series, and the
// receivers' stats provider. The metrics pipelines report them (self-metrics.ts) under the
// conventions' otel.sdk.* names where they have one; the warnings are said once each.
import type { Attributes, Meter } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ATTR, METRIC, type MetricName } from '../catalogue/generated';
import type { Logger } from '../log';
import type { HistogramProducer } from './histogram-producer';
import { OVERFLOW_ATTRIBUTES } from '../pipeline/aggregate';
import { LOG_QUEUE_CAPACITY, QUEUE_FULL } from './log-queue';
import { type AgentStats, type CountedSeries, registerSelfMetrics, type StatsProvider } from './self-metrics';

const OVERFLOW_KEY = Object.keys(OVERFLOW_ATTRIBUTES)[0]!; // the SDK's overflow set has one attribute

/** otel.component.type of the batch processor in front of each log exporter (the SDK's, bounded by log-queue.ts). */
const LOG_PROCESSOR_TYPE = 'batching_log_processor';

/** What the wrappers of one exporter, for one signal, report (the otel.sdk.* self-metrics). */
export interface ExportCounts {
  /** An export operation ended: `items` data points or log records delivered, or given up with `errorType`. */
  exported(items: number, errorType?: string): void;
  /** Logs: the batch processor handed `items` records to the exporter. */
  processed(items: number): void;
  /** Logs: the processor turned `items` records away because its queue was full. */
  dropped(items: number): void;
  /** Logs: `items` kept records no longer fit after a failed export (`errorType`) and were given up. */
  givenUp(items: number, errorType: string): void;
}

export class AgentSelfStats {
  private stats: StatsProvider | undefined;
  private readonly sdk = new Map<MetricName, Map<string, CountedSeries>>([
    [METRIC.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED, new Map()],
    [METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED, new Map()],
    [METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, new Map()],
  ]);
  private readonly counts = new Map<string, ExportCounts>();
  private readonly cardinalityHits = new Map<string, number>();
  private readonly warnedOverflow = new Set<string>();
  private readonly warnedDrops = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly cardinalityLimit: number,
  ) {}

  setStatsProvider(fn: StatsProvider): void {
    this.stats = fn;
  }

  /** The receivers' stats by id, as the provider reports them now (empty before one is set). */
  readonly probeStats = (): Readonly<AgentStats['probes']> => this.stats?.().probes ?? {};

  /**
   * The counts of exporter `id` for `signal`, named as the conventions name components
   * (otel.component.name is the id from agent.yaml). It is reported from the first collection on,
   * with nothing delivered yet.
   */
  exportCounts(id: string, signal: 'metrics' | 'logs', componentType: string): ExportCounts {
    const key = `${signal}\0${id}\0${componentType}`;
    const known = this.counts.get(key);
    if (known) return known;
    const exporter = { [ATTR.OTEL_COMPONENT_NAME]: id, [ATTR.OTEL_COMPONENT_TYPE]: componentType };
    const processor = { [ATTR.OTEL_COMPONENT_NAME]: id, [ATTR.OTEL_COMPONENT_TYPE]: LOG_PROCESSOR_TYPE };
    const exported = signal === 'metrics' ? METRIC.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED : METRIC.OTEL_SDK_EXPORTER_LOG_EXPORTED;
    const counts: ExportCounts = {
      exported: (n, errorType) => this.add(exported, exporter, n, errorType),
      processed: (n) => this.add(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, processor, n),
      dropped: (n) => {
        this.add(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, processor, n, QUEUE_FULL);
        this.warnDrops(id);
      },
      givenUp: (n, errorType) => {
        this.add(exported, exporter, n, errorType);
        this.warnDrops(id);
      },
    };
    this.add(exported, exporter, 0);
    if (signal === 'logs') this.add(METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED, processor, 0);
    this.counts.set(key, counts);
    return counts;
  }

  private add(metric: MetricName, base: Attributes, n: number, errorType?: string): void {
    const table = this.sdk.get(metric)!; // every otel.sdk metric has its table (constructor)
    const key = `${String(base[ATTR.OTEL_COMPONENT_TYPE])}\0${String(base[ATTR.OTEL_COMPONENT_NAME])}\0${errorType ?? ''}`;
    const s = table.get(key);
    if (s) s.value += n;
    else table.set(key, { attrs: errorType === undefined ? base : { ...base, [ATTR.ERROR_TYPE]: errorType }, value: n });
  }

  private warnDrops(id: string): void {
    if (this.warnedDrops.has(id)) return;
    this.warnedDrops.add(id);
    this.log.warn(
      `exporter ${id} (logs): more than ${LOG_QUEUE_CAPACITY} log records wait for export; the excess is dropped and counted ` +
        `in ${METRIC.OTEL_SDK_PROCESSOR_LOG_PROCESSED} (error.type=${QUEUE_FULL}; lower the receivers' logs.max_per_second or sampling_ratio)`,
    );
  }

  /** Called for every measurement our tables fold into an overflow series. */
  readonly onOverflow = (metric: string): void => {
    this.cardinalityHits.set(metric, (this.cardinalityHits.get(metric) ?? 0) + 1);
    this.warnOverflow(metric);
  };

  /** Series the SDK itself folded (instruments outside our tables) show up only in what is exported. */
  readonly scanOverflow = (rm: ResourceMetrics): void => {
    for (const s of rm.scopeMetrics)
      for (const m of s.metrics) {
        if (
          !this.warnedOverflow.has(m.descriptor.name) &&
          (m.dataPoints as { attributes: Record<string, unknown> }[]).some((p) => p.attributes[OVERFLOW_KEY] === true)
        ) {
          this.warnOverflow(m.descriptor.name);
        }
      }
  };

  /** The agent's self-metrics on one metrics pipeline's meter. */
  register(meter: Meter, producer: HistogramProducer): void {
    registerSelfMetrics(meter, producer, {
      stats: (): AgentStats | undefined => this.stats?.(),
      sdk: this.sdk,
      cardinalityHits: this.cardinalityHits,
    });
  }

  private warnOverflow(metric: string): void {
    if (this.warnedOverflow.has(metric)) return;
    this.warnedOverflow.add(metric);
    this.log.warn(
      `metric ${metric} reached the cardinality limit of ${this.cardinalityLimit} attribute sets; new sets are folded into ${OVERFLOW_KEY}=true ` +
        '(raise service.telemetry.metrics.cardinality_limit or turn off opt-in attributes)',
    );
  }
}
