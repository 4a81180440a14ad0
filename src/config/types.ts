// The validated, frozen shape of agent.yaml. Keys mirror the YAML (snake_case), as in the
// OpenTelemetry Collector. src/config/ produces it; everything else only reads it.

/** Component ids follow the collector's `type[/name]` form, e.g. `otlp`, `filter/ignore-loopback`. */
export type ComponentId = string;

export interface TlsSettings {
  insecure: boolean;            // plaintext (no TLS) — for gRPC; otlphttp uses the URL scheme
  insecure_skip_verify: boolean;
  ca_file: string;              // '' = system roots
  cert_file: string;
  key_file: string;
  server_name_override: string;
}

export interface OtlpExporterConfig {
  type: 'otlp';
  id: ComponentId;
  endpoint: string;             // host:port or http(s)://host:port
  tls: TlsSettings;
  headers: Readonly<Record<string, string>>; // secrets: never logged
  compression: 'gzip' | 'none';
  timeout_ms: number;
}

export interface OtlpHttpExporterConfig {
  type: 'otlphttp';
  id: ComponentId;
  endpoint: string;             // base URL; /v1/metrics and /v1/logs are appended
  encoding: 'proto' | 'json';
  tls: TlsSettings;
  headers: Readonly<Record<string, string>>;
  compression: 'gzip' | 'none';
  timeout_ms: number;
}

export interface DebugExporterConfig {
  type: 'debug';
  id: ComponentId;
  /** basic: one summary line per export; normal: one line per metric / log record; detailed: full JSON. */
  verbosity: 'basic' | 'normal' | 'detailed';
}

export interface PrometheusExporterConfig {
  type: 'prometheus';
  id: ComponentId;
  host: string;
  port: number;
}

export type ExporterConfig = OtlpExporterConfig | OtlpHttpExporterConfig | DebugExporterConfig | PrometheusExporterConfig;

/** Per-metric / per-event enable switches, mdatagen style: `metrics: { <name>: { enabled: bool } }`. */
export type EnableMap = Readonly<Record<string, { readonly enabled: boolean }>>;

export interface ConnectionsReceiverConfig {
  type: 'connections';
  id: ComponentId;
  /** Ring buffer size in bytes (power of two, multiple of the page size). */
  ring_buffer_size: number;
  /** How often the reader drains the ring even without a wakeup. */
  poll_interval_ms: number;
  /** Wake the reader once this many bytes wait (0 = whenever it has caught up). */
  wakeup_bytes: number;
  /** Seed connections that exist when the agent starts from /proc/<pid>/net/{tcp,tcp6,udp,udp6}. */
  seed_existing: boolean;
  /** High-cardinality attributes are opt-in. */
  include: { readonly process_pid: boolean; readonly peer_address: boolean; readonly client_port: boolean };
  metrics: EnableMap;
  events: EnableMap;
  /** Log-record sampling (0..1] and a per-second cap; 0 = no cap. */
  logs: { readonly sampling_ratio: number; readonly max_per_second: number };
}

export type ReceiverConfig = ConnectionsReceiverConfig;

export type Direction = 'outbound' | 'inbound';

/** One include/exclude rule of the filter processor; all given fields must match (AND), lists are OR. */
export interface FilterRule {
  process: readonly string[];          // executable names (exact, or glob with *)
  container_id: readonly string[];
  container_runtime: readonly string[];
  nomad_job: readonly string[];
  ports: readonly number[];            // matches the server port
  cidrs: readonly string[];            // matches the remote (peer) address
  direction: readonly Direction[];
  transport: readonly ('tcp' | 'udp')[];
}

export interface FilterProcessorConfig {
  type: 'filter';
  id: ComponentId;
  /** If non-empty, an event must match at least one include rule. */
  include: readonly FilterRule[];
  /** An event matching any exclude rule is dropped. */
  exclude: readonly FilterRule[];
}

export type ProcessorConfig = FilterProcessorConfig;

export type Signal = 'metrics' | 'logs';

export interface PipelineConfig {
  id: string;                   // e.g. `metrics`, `logs/verbose`
  signal: Signal;
  receivers: readonly ComponentId[];
  processors: readonly ComponentId[];
  exporters: readonly ComponentId[];
}

export interface ServiceConfig {
  pipelines: readonly PipelineConfig[];
  telemetry: {
    readonly logs: { readonly level: 'debug' | 'info' | 'warn' | 'error' };
    readonly metrics: {
      /** Export interval of the periodic metric readers. */
      readonly export_interval_ms: number;
      /** Max distinct attribute sets per metric before overflow (reported when hit). */
      readonly cardinality_limit: number;
    };
    /** OTel resource attributes added to everything (merged over OTEL_RESOURCE_ATTRIBUTES). */
    readonly resource: Readonly<Record<string, string>>;
  };
}

export interface AgentConfig {
  /** Path of the file this was read from. */
  source: string;
  receivers: Readonly<Record<ComponentId, ReceiverConfig>>;
  processors: Readonly<Record<ComponentId, ProcessorConfig>>;
  exporters: Readonly<Record<ComponentId, ExporterConfig>>;
  service: ServiceConfig;
}
