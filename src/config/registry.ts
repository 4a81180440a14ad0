// Every component type the loader knows, keyed by type. A new type (sni, packet_fate,
// nomad_autostart) is one schema file plus one line here; the mapped types make the compiler
// insist on it once the type joins the union in types.ts.
import type { ComponentDefinition, ComponentKind } from './component';
import { connections } from './schemas/connections';
import { sni } from './schemas/sni';
import { debug } from './schemas/debug';
import { filter } from './schemas/filter';
import { nomadAutostart } from './schemas/nomad_autostart';
import { otlp, otlpGrpc } from './schemas/otlp';
import { packetFate } from './schemas/packet-fate';
import { otlpHttp, otlphttp } from './schemas/otlphttp';
import { prometheus } from './schemas/prometheus';
import type { ExporterConfig, ProcessorConfig, ReceiverConfig } from './types';

type Table<U extends { type: string; id: string }> = { readonly [K in U['type']]: ComponentDefinition<Extract<U, { type: K }>> };

export const RECEIVER_TYPES: Table<ReceiverConfig> = { connections, sni, packet_fate: packetFate };
export const PROCESSOR_TYPES: Table<ProcessorConfig> = { filter, nomad_autostart: nomadAutostart };
// otlp and otlphttp are the collector's old names of otlp_grpc and otlp_http (deprecatedAliasOf).
export const EXPORTER_TYPES: Table<ExporterConfig> & Readonly<Record<'otlp_grpc' | 'otlp_http', ComponentDefinition<ExporterConfig>>> = { debug, otlp_grpc: otlpGrpc, otlp_http: otlpHttp, otlp, otlphttp, prometheus };

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
export const METRICS_ONLY_EXPORTERS: ReadonlySet<string> = new Set(['prometheus']);
