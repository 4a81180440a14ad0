// The agent's own counts that telemetry keeps while it runs: failed exports, log records dropped at
// a full queue, measurements folded into overflow series, and the receivers' stats provider. The
// metrics pipelines report them (self-metrics.ts); the warnings are said once each.
import type { Meter } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../log';
import type { HistogramProducer } from './histogram-producer';
import { OVERFLOW_ATTRIBUTES } from '../pipeline/aggregate';
import { LOG_QUEUE_CAPACITY } from './log-queue';
import { type AgentStats, registerSelfMetrics, type StatsProvider } from './self-metrics';

const OVERFLOW_KEY = Object.keys(OVERFLOW_ATTRIBUTES)[0]!; // the SDK's overflow set has one attribute

export class AgentSelfStats {
  private stats: StatsProvider | undefined;
  private readonly exportFailures = new Map<string, number>();
  private readonly logRecordsDropped = new Map<string, number>();
  private readonly cardinalityHits = new Map<string, number>();
  private readonly warnedOverflow = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly cardinalityLimit: number,
  ) {}

  setStatsProvider(fn: StatsProvider): void {
    this.stats = fn;
  }

  /** The receivers' stats by id, as the provider reports them now (empty before one is set). */
  readonly probeStats = (): Readonly<AgentStats['probes']> => this.stats?.().probes ?? {};

  /** An exporter in use: it is reported (with 0 failures) from the first collection on. */
  exporterUsed(id: string): void {
    this.exportFailures.set(id, this.exportFailures.get(id) ?? 0);
  }

  readonly onExportFailure = (id: string): void => {
    this.exportFailures.set(id, (this.exportFailures.get(id) ?? 0) + 1);
  };

  readonly onLogDrop = (id: string, count = 1): void => {
    const before = this.logRecordsDropped.get(id) ?? 0;
    this.logRecordsDropped.set(id, before + count);
    if (before === 0) {
      this.log.warn(
        `exporter ${id} (logs): more than ${LOG_QUEUE_CAPACITY} log records wait for export; the excess is dropped and counted ` +
          "in netwatch.agent.log_records.dropped (lower the receivers' logs.max_per_second or sampling_ratio)",
      );
    }
  };

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
      exportFailures: this.exportFailures,
      cardinalityHits: this.cardinalityHits,
      logRecordsDropped: this.logRecordsDropped,
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
