// Building blocks for the telemetry tests: an AgentConfig around given exporters, and connection events.
import type {
  AgentConfig,
  ExporterConfig,
  OtlpSignalSettings,
  PipelineConfig,
  ReceiverConfig,
  HistogramAggregation,
  TemporalityPreference,
  TlsSettings,
} from '../../../src/config/types';
import { type ConnectionsReceiverConfig, DEFAULT_RTT_BUCKETS_US } from '../../../src/receivers/connections/config';
import type { PacketFateReceiverConfig } from '../../../src/receivers/packet_fate/config';
import type { ConnPipelineEvent } from '../../../src/pipeline/event';

export const INSECURE: TlsSettings = { insecure: true, insecure_skip_verify: false, ca_file: '', cert_file: '', key_file: '', server_name_override: '' };

export function receiver(over: Partial<ConnectionsReceiverConfig> = {}): ConnectionsReceiverConfig {
  return {
    type: 'connections',
    id: 'connections',
    ring_buffer_size: 1 << 20,
    poll_interval_ms: 100,
    wakeup_bytes: 0,
    interval_ms: 10_000,
    table_size: 8192,
    include_self: false,
    seed_existing: false,
    include: { process_pid: false, peer_address: false, client_port: false },
    metrics: {},
    events: {},
    logs: { sampling_ratio: 1, max_per_second: 0 },
    rtt_buckets_us: DEFAULT_RTT_BUCKETS_US,
    ...over,
  };
}

export function fateReceiver(over: Partial<PacketFateReceiverConfig> = {}): PacketFateReceiverConfig {
  return {
    type: 'packet_fate',
    id: 'packet_fate',
    ring_buffer_size: 1 << 18,
    poll_interval_ms: 100,
    interval_ms: 10_000,
    sample_per_interval: 100,
    table_size: 16384,
    ignore_reasons: ['NOT_SPECIFIED'],
    include: { process_pid: false },
    metrics: {},
    events: {},
    ...over,
  };
}

/** What a test may change of an OTLP exporter; the settings apply to both signals. */
export type OtlpOver = Partial<OtlpSignalSettings> & { id?: string; temporality?: TemporalityPreference; histogram_aggregation?: HistogramAggregation };

function signals(endpoint: (signal: 'metrics' | 'logs') => string, compression: 'gzip' | 'none', over: OtlpOver) {
  const { id: _id, temporality: _t, histogram_aggregation: _h, ...settings } = over;
  const one = (signal: 'metrics' | 'logs'): OtlpSignalSettings => ({
    endpoint: endpoint(signal),
    tls: INSECURE,
    headers: {},
    compression,
    timeout_ms: 1000,
    ...settings,
  });
  return { metrics: one('metrics'), logs: one('logs') };
}

export function otlpGrpc(endpoint: string, over: OtlpOver = {}): ExporterConfig {
  return {
    type: 'otlp',
    id: over.id ?? 'otlp',
    ...signals(() => endpoint, 'none', over),
    temporality: over.temporality ?? 'cumulative',
    histogram_aggregation: over.histogram_aggregation ?? 'explicit_bucket_histogram',
  };
}

/** `endpoint` is the base URL; the signals' paths are appended. */
export function otlpHttp(endpoint: string, encoding: 'proto' | 'json', over: OtlpOver = {}): ExporterConfig {
  const s = signals((signal) => `${endpoint}/v1/${signal}`, 'gzip', over);
  return {
    type: 'otlphttp',
    id: over.id ?? 'otlphttp',
    metrics: { ...s.metrics, encoding },
    logs: { ...s.logs, encoding },
    temporality: over.temporality ?? 'cumulative',
    histogram_aggregation: over.histogram_aggregation ?? 'explicit_bucket_histogram',
  };
}

export function agentConfig(opts: {
  exporters: ExporterConfig[];
  receiver?: ReceiverConfig;
  /** More receivers in every pipeline. */
  also?: ReceiverConfig[];
  signals?: ('metrics' | 'logs')[];
  intervalMs?: number;
  cardinalityLimit?: number;
  resource?: Record<string, string>;
}): AgentConfig {
  const rcs = [opts.receiver ?? receiver(), ...(opts.also ?? [])];
  const pipelines: PipelineConfig[] = (opts.signals ?? ['metrics', 'logs']).map((signal) => ({
    id: signal,
    signal,
    receivers: rcs.map((r) => r.id),
    processors: [],
    exporters: opts.exporters.map((e) => e.id),
  }));
  return {
    source: 'test',
    receivers: Object.fromEntries(rcs.map((r) => [r.id, r])),
    processors: {},
    exporters: Object.fromEntries(opts.exporters.map((e) => [e.id, e])),
    service: {
      pipelines,
      shutdown_timeout_ms: 10_000,
      server: { enabled: false, host: '127.0.0.1', port: 9465, bearer_token: '', window: { max_events: 10000, max_age_ms: 900_000 } },
      telemetry: {
        logs: { level: 'info' },
        metrics: { export_interval_ms: opts.intervalMs ?? 200, cardinality_limit: opts.cardinalityLimit ?? 2000, export_timeout_ms: 30_000 },
        sdk_disabled: false,
        sdk_log_level: 'warn',
        resource: opts.resource ?? {},
      },
    },
  };
}

let nextSock = 0x1000n;
/** A fresh kernel socket address for a new connection. */
export const newSock = (): bigint => (nextSock += 0x40n);

export function connEvent(over: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent {
  return {
    source: 'connections',
    receiver: 'connections',
    kind: 'connect',
    bootNs: 1,
    sock: 1n,
    pid: 4242,
    tid: 4242,
    exe: 'curl',
    cgroupId: 1,
    netns: 4026531840,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: 'outbound',
    localAddress: '10.0.0.1',
    localPort: 40000,
    remoteAddress: '10.0.0.2',
    remotePort: 443,
    oldState: 'unknown',
    newState: 'unknown',
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: 0,
    counts: undefined,
    timeUnixMs: 1_700_000_000_123,
    process: { pid: 4242, executableName: 'curl', commandLine: 'curl https://example' },
    ...over,
  };
}

/** The events of one outbound TCP connection from connect to close. */
export function outboundLifecycle(over: Partial<ConnPipelineEvent> & { bytesSent?: number; bytesReceived?: number } = {}): ConnPipelineEvent[] {
  const sock = newSock();
  const e = (o: Partial<ConnPipelineEvent>): ConnPipelineEvent => connEvent({ sock, ...over, ...o });
  return [
    e({ kind: 'connect', localPort: 0 }),
    e({ kind: 'state', oldState: 'closed', newState: 'syn_sent' }),
    e({ kind: 'state', oldState: 'syn_sent', newState: 'established' }),
    e({
      kind: 'close',
      oldState: 'established',
      newState: 'closed',
      bytesSent: over.bytesSent ?? 100,
      bytesReceived: over.bytesReceived ?? 2000,
      srttUs: 1500,
      retransmits: 1,
      durationNs: 250_000_000,
    }),
  ];
}
