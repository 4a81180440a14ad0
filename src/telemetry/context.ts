// What the metrics and logs pipeline builders share within one telemetry incarnation.
import type { Resource } from '@opentelemetry/resources';
import type { AgentConfig, ExporterConfig, PipelineConfig, ReceiverConfig } from '../config/types';
import { InternalError } from '../errors';
import type { Logger } from '../log';
import type { WriteLine } from './debug';
import { ExportHealth, ExporterOutage } from './export-health';
import type { AgentSelfStats } from './self-stats';

export class TelemetryContext {
  /** Export health per exporter and signal, shared by every pipeline that uses the exporter. */
  readonly healths = new Map<string, ExportHealth>();
  /** One outage report per exporter, whichever of its signals fail. */
  private readonly outages = new Map<string, ExporterOutage>();

  constructor(
    readonly cfg: AgentConfig,
    readonly resource: Resource,
    readonly scope: { readonly name: string; readonly version: string; readonly schemaUrl: string },
    readonly log: Logger,
    readonly self: AgentSelfStats,
    readonly debugWrite: WriteLine | undefined,
  ) {}

  get interval(): number {
    return this.cfg.service.telemetry.metrics.export_interval_ms;
  }

  get cardinalityLimit(): number {
    return this.cfg.service.telemetry.metrics.cardinality_limit;
  }

  healthFor(id: string, signal: 'metrics' | 'logs', endpoint: string, secrets: string[]): ExportHealth {
    const key = `${signal}\0${id}`;
    let h = this.healths.get(key);
    let outage = this.outages.get(id);
    if (!outage) this.outages.set(id, (outage = new ExporterOutage()));
    if (!h) this.healths.set(key, (h = new ExportHealth({ id, signal, endpoint, secrets }, this.log, outage)));
    return h;
  }

  exporterConfig(p: PipelineConfig, id: string): ExporterConfig {
    const e = this.cfg.exporters[id];
    if (!e) throw new InternalError(`pipeline ${p.id}: exporter ${id} is not defined`);
    return e;
  }

  /** OTEL_SDK_DISABLED: the pipelines run (the query API reads them) but export nowhere. */
  exportersOf(p: PipelineConfig): readonly string[] {
    return this.cfg.service.telemetry.sdk_disabled ? [] : p.exporters;
  }

  receiversOf(p: PipelineConfig): ReceiverConfig[] {
    return p.receivers.map((id) => this.cfg.receivers[id]).filter((r) => r !== undefined);
  }
}
