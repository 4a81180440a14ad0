// Every component type the agent knows, in one place (the OpenTelemetry Collector's components.go).
// A new receiver is its folder (src/receivers/<type>/, with an index.ts factory) plus one line here:
// the config union and the loader's tables (src/config/), the telemetry sources
// (src/telemetry/sources.ts), the pipeline's event union (src/pipeline/event.ts) and the agent's
// receiver construction are derived from these tables, and the compiler names whatever is missing.
// Only config halves load with this module; a factory loads its receiver, metrics or logs module
// when first asked for one.
import type { ExporterConfig, ProcessorConfig } from './config/types';
import { connections } from './receivers/connections';
import { packetFate } from './receivers/packet_fate';
import { sni } from './receivers/sni';
import { filter, nomadAutostart, type ProcessorFactory } from './pipeline/processors/factories';
import { debug, otlp, otlphttp, prometheus, type ExporterFactory } from './telemetry/exporter-factories';

export type { ReceiverConfigOf, ReceiverEventOf } from './receivers/factory';

export const RECEIVERS = {
  connections,
  sni,
  packet_fate: packetFate,
} as const;

export const PROCESSORS = {
  filter,
  nomad_autostart: nomadAutostart,
} as const satisfies { readonly [K in ProcessorConfig['type']]: ProcessorFactory<Extract<ProcessorConfig, { type: K }>> };

export const EXPORTERS = {
  debug,
  otlp,
  otlphttp,
  prometheus,
} as const satisfies { readonly [K in ExporterConfig['type']]: ExporterFactory<Extract<ExporterConfig, { type: K }>> };

export type ReceiverType = keyof typeof RECEIVERS;

// Each factory sits under its own type (a copy-pasted line would otherwise route configs wrongly).
type Misplaced = { [K in ReceiverType]: (typeof RECEIVERS)[K]['type'] extends K ? never : K }[ReceiverType];
export const FACTORIES_UNDER_THEIR_TYPE: [Misplaced] extends [never] ? true : Misplaced = true;
