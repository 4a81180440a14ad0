// The exporter types, as src/components.ts lists them: each one's config half and the signals it
// can serve. The SDK exporters themselves are built by exporters.ts.
import type { ComponentDefinition } from '../config/component';
import { debug as debugConfig } from '../config/schemas/debug';
import { otlp as otlpConfig } from '../config/schemas/otlp';
import { otlphttp as otlphttpConfig } from '../config/schemas/otlphttp';
import { prometheus as prometheusConfig } from '../config/schemas/prometheus';
import type { DebugExporterConfig, OtlpExporterConfig, OtlpHttpExporterConfig, PrometheusExporterConfig, Signal } from '../config/types';

export interface ExporterFactory<C extends { type: string; id: string }> {
  readonly type: C['type'];
  readonly config: ComponentDefinition<C>;
  /** The pipelines it may end. */
  readonly signals: readonly Signal[];
}

export const debug: ExporterFactory<DebugExporterConfig> = { type: 'debug', config: debugConfig, signals: ['metrics', 'logs'] };
export const otlp: ExporterFactory<OtlpExporterConfig> = { type: 'otlp', config: otlpConfig, signals: ['metrics', 'logs'] };
export const otlphttp: ExporterFactory<OtlpHttpExporterConfig> = { type: 'otlphttp', config: otlphttpConfig, signals: ['metrics', 'logs'] };
/** A pull exporter: Prometheus scrapes metrics; it has no logs. */
export const prometheus: ExporterFactory<PrometheusExporterConfig> = { type: 'prometheus', config: prometheusConfig, signals: ['metrics'] };
