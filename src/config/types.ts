// The validated, frozen shape of agent.yaml. Keys mirror the YAML (snake_case), as in the
// OpenTelemetry Collector. src/config/ produces it; everything else only reads it. Each receiver's
// own settings are declared in its folder (src/receivers/<type>/config.ts).
import type { RECEIVERS, ReceiverConfigOf } from '../components';

/** Component ids follow the collector's `type[/name]` form, e.g. `otlp`, `filter/ignore-loopback`. */
export type ComponentId = string;

export interface TlsSettings {
  insecure: boolean; // plaintext (no TLS) — for gRPC; otlphttp uses the URL scheme
  insecure_skip_verify: boolean;
  ca_file: string; // '' = system roots
  cert_file: string;
  key_file: string;
  server_name_override: string;
}

/** What one signal of an OTLP exporter uses, resolved: file > OTEL_EXPORTER_OTLP_<SIGNAL>_* > OTEL_EXPORTER_OTLP_* > default. */
export interface OtlpSignalSettings {
  endpoint: string; // gRPC: host:port or http(s)://host:port; HTTP: the full URL (…/v1/metrics)
  tls: TlsSettings;
  headers: Readonly<Record<string, string>>; // secrets: never logged
  compression: 'gzip' | 'none';
  timeout_ms: number;
}

/** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE. */
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory';
/** How an OTLP exporter's histograms are aggregated (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION). */
export type HistogramAggregation = 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';

export interface OtlpExporterConfig {
  type: 'otlp';
  id: ComponentId;
  metrics: OtlpSignalSettings;
  logs: OtlpSignalSettings;
  temporality: TemporalityPreference;
  histogram_aggregation: HistogramAggregation;
}

export interface OtlpHttpExporterConfig {
  type: 'otlphttp';
  id: ComponentId;
  metrics: OtlpSignalSettings & { readonly encoding: 'proto' | 'json' };
  logs: OtlpSignalSettings & { readonly encoding: 'proto' | 'json' };
  temporality: TemporalityPreference;
  histogram_aggregation: HistogramAggregation;
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

/** Every receiver type's configuration, derived from the component list (src/components.ts). */
export type ReceiverConfig = ReceiverConfigOf<typeof RECEIVERS>;

export type Direction = 'outbound' | 'inbound';

/** One include/exclude rule of the filter processor; all given fields must match (AND), lists are OR. */
export interface FilterRule {
  process: readonly string[]; // executable names (exact, or glob with *)
  container_id: readonly string[];
  container_runtime: readonly string[];
  nomad_job: readonly string[];
  ports: readonly number[]; // matches the server port
  cidrs: readonly string[]; // matches the remote (peer) address
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

/** What a nomad_autostart rule wakes on (any given trigger) and which clients may trigger it (every given filter). */
export interface AutostartMatch {
  /** TLS ClientHello server names, lower-cased: exact, or `*.` + suffix (any deeper name). */
  sni: readonly string[];
  /** Server ports an sni trigger must be sent to, and the ports whose open connections keep the group awake. */
  ports: readonly number[];
  /** TCP SYNs to these ports (seen by the sni receiver's TC program, even with no listener). */
  syn_to_port: readonly number[];
  /** Outbound connect() calls of local processes to these destinations. */
  connect_to: readonly AutostartDestination[];
  /** Interfaces the packet must be seen on (sni and syn_to_port triggers). */
  interface: readonly string[];
  /** Client address ranges. */
  cidrs: readonly string[];
  process: readonly string[];
  container_id: readonly string[];
  container_runtime: readonly string[];
  nomad_job: readonly string[];
  nomad_namespace: readonly string[];
}

/** `10.1.0.5:5432`, `10.2.0.0/16:8080`, `*:6379`: a CIDR (empty = any address) and a port. */
export interface AutostartDestination {
  cidr: string;
  port: number;
}

export type WaitFor = 'running' | 'healthy' | 'none';

export interface AutostartRule {
  name: string;
  match: AutostartMatch;
  job: string;
  group: string;
  /** Resolved: the rule's, else the processor's (NOMAD_NAMESPACE), else `default`. */
  namespace: string;
  /** The count a wake sets when the group is below it. */
  count: number;
  wait_for: WaitFor;
  wait_timeout_ms: number;
  /** Scale back to 0 after this long idle; 0 = never. */
  idle_after_ms: number;
  /** `woken`: only groups this agent woke; `any`: any group of this rule that is above 0. */
  idle_scale_down: 'woken' | 'any';
  /** Start the job again (re-register with Stop=false) when it is stopped. */
  start_stopped: boolean;
  /** Drop SYNs to the syn_to_port ports while the group is at 0 or waking and nothing listens (sni receivers' TC ingress). */
  hold_syn: boolean;
  cooldown_ms: number;
}

export interface NomadAutostartProcessorConfig {
  type: 'nomad_autostart';
  id: ComponentId;
  /** Resolved over NOMAD_* defaults; secrets (token, http_auth) are never logged. */
  address: string;
  token: string;
  /** '' or a file holding the token (a workload identity's), read at start and again on a 403. */
  token_file: string;
  namespace: string;
  region: string;
  /** `user:password` for a proxy in front of Nomad (NOMAD_HTTP_AUTH). */
  http_auth: string;
  tls: {
    readonly ca_cert: string;
    readonly ca_path: string;
    readonly client_cert: string;
    readonly client_key: string;
    readonly server_name: string;
    readonly skip_verify: boolean;
  };
  timeout_ms: number;
  /** Log what would be done; call nothing that writes. */
  dry_run: boolean;
  /** Written into scaling events' Meta; '' = this machine's host name. */
  agent_host: string;
  /** The servers' Nomad version when /v1/agent/self cannot be read; '' = unknown. */
  server_version: string;
  retry: { readonly initial_ms: number; readonly max_ms: number; readonly give_up_after_ms: number };
  /** Sleep decided for the cluster: activity per node in Nomad Variables, one sleeper at a time under a Variables lock. */
  cluster: {
    readonly enabled: boolean;
    /** The node this agent publishes its activity as; '' = agent_host, else this machine's host name. */
    readonly node: string;
    /** Each node's activity is the variable `<variables_prefix>/<node>`. */
    readonly variables_prefix: string;
    /** The sleeper of a group holds the lock on `<lock_path>/<namespace>/<job>/<group>`. */
    readonly lock_path: string;
    readonly lock_ttl_ms: number;
    /** Between the sleeper's two reads of every node's activity. */
    readonly grace_ms: number;
  };
  rules: readonly AutostartRule[];
}

export type ProcessorConfig = FilterProcessorConfig | NomadAutostartProcessorConfig;

export type Signal = 'metrics' | 'logs';

export interface PipelineConfig {
  id: string; // e.g. `metrics`, `logs/verbose`
  signal: Signal;
  receivers: readonly ComponentId[];
  processors: readonly ComponentId[];
  exporters: readonly ComponentId[];
}

/** The agent's own HTTP server: health endpoints and the local query API (src/server). */
export interface ServerConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  /** '' = no authentication; otherwise `Authorization: Bearer <token>` is required (except /livez, /readyz). Never logged. */
  readonly bearer_token: string;
  /** The in-memory window of recent events the query API answers from, per event source. */
  readonly window: { readonly max_events: number; readonly max_age_ms: number };
}

export interface ServiceConfig {
  pipelines: readonly PipelineConfig[];
  server: ServerConfig;
  /** On SIGTERM/SIGINT: how long stopping (last export, detaching) may take before the process exits anyway. */
  shutdown_timeout_ms: number;
  telemetry: {
    readonly logs: { readonly level: 'debug' | 'info' | 'warn' | 'error' };
    readonly metrics: {
      /** Export interval of the periodic metric readers. */
      readonly export_interval_ms: number;
      /** Max distinct attribute sets per metric before overflow (reported when hit). */
      readonly cardinality_limit: number;
      /** Time limit of one collect-and-export by the periodic readers (OTEL_METRIC_EXPORT_TIMEOUT). */
      readonly export_timeout_ms: number;
    };
    /** OTEL_SDK_DISABLED: export nothing (the pipelines still feed the query API). */
    readonly sdk_disabled: boolean;
    /** OTEL_LOG_LEVEL: how much of the OpenTelemetry SDK's own diagnostics reaches the log. */
    readonly sdk_log_level: 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
    /** OTel resource attributes added to everything (merged over OTEL_RESOURCE_ATTRIBUTES). */
    readonly resource: Readonly<Record<string, string>>;
  };
}

export interface AgentConfig {
  /** Path of the file this was read from. */
  source: string;
  /** What `validate` should point out about a valid file, such as deprecated names. */
  notices?: readonly string[];
  receivers: Readonly<Record<ComponentId, ReceiverConfig>>;
  processors: Readonly<Record<ComponentId, ProcessorConfig>>;
  exporters: Readonly<Record<ComponentId, ExporterConfig>>;
  service: ServiceConfig;
}
