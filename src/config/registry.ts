// Every component type the loader knows, keyed by type: the config halves of the factories in
// src/components.ts (a new type is added there, not here).
import { EXPORTERS, PROCESSORS, RECEIVERS } from '../components';
import type { ComponentDefinition, ComponentKind } from './component';
import type { ExporterConfig, ProcessorConfig, ReceiverConfig, Signal } from './types';
import { otlpGrpc } from './schemas/otlp';
import { otlpHttp } from './schemas/otlphttp';

type Table<U extends { type: string; id: string }> = { readonly [K in U['type']]: ComponentDefinition<Extract<U, { type: K }>> };
type Factories = Readonly<Record<string, { readonly config: ComponentDefinition<{ type: string; id: string }> }>>;

/** Each factory's config half, under its type (in the order src/components.ts lists them). */
function configs<T>(factories: Factories): T {
  return Object.fromEntries(Object.entries(factories).map(([type, f]) => [type, f.config])) as T;
}

export const RECEIVER_TYPES: Table<ReceiverConfig> = configs(RECEIVERS);
export const PROCESSOR_TYPES: Table<ProcessorConfig> = configs(PROCESSORS);
// otlp and otlphttp (EXPORTERS) are the collector's old names of otlp_grpc and otlp_http (deprecatedAliasOf).
export const EXPORTER_TYPES: Table<ExporterConfig> & Readonly<Record<'otlp_grpc' | 'otlp_http', ComponentDefinition<ExporterConfig>>> = {
  ...configs<Table<ExporterConfig>>(EXPORTERS),
  otlp_grpc: otlpGrpc,
  otlp_http: otlpHttp,
};

export interface KindInfo {
  /** `receiver`, for messages. */
  noun: string;
  types: Readonly<Record<string, ComponentDefinition<{ type: string; id: string }>>>;
}

export const KINDS: Readonly<Record<ComponentKind, KindInfo>> = {
  receivers: { noun: 'receiver', types: RECEIVER_TYPES },
  processors: { noun: 'processor', types: PROCESSOR_TYPES },
  exporters: { noun: 'exporter', types: EXPORTER_TYPES },
};

export const KIND_ORDER: readonly ComponentKind[] = ['receivers', 'processors', 'exporters'];

/** Exporter types that can only serve metrics pipelines. */
export const METRICS_ONLY_EXPORTERS: ReadonlySet<string> = new Set(
  Object.values(EXPORTERS as Readonly<Record<string, { type: string; signals: readonly Signal[] }>>)
    .filter((e) => !e.signals.includes('logs'))
    .map((e) => e.type),
);
