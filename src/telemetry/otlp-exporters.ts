// The OTLP exporters, assembled from the SDK's parts so that the resolved config is all they use:
// the SDK's exporter classes read OTEL_EXPORTER_OTLP_* themselves (merging per-signal headers
// unvalidated), and its gRPC transport takes no channel options (no TLS name override or
// :authority). The SDK still serializes, queues, times out and retries; over gRPC the call is ours.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  createOtlpNetworkExportDelegate,
  ExporterMetrics,
  type ExportResponse,
  type IExporterTransport,
  OTLPExporterBase,
} from '@opentelemetry/otlp-exporter-base';
import {
  type IExporterMetricsHelper,
  type ISerializer,
  JsonLogsSerializer,
  JsonMetricsSerializer,
  LogsExporterMetricsHelper,
  MetricsExporterMetricsHelper,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { type AggregationOption, AggregationType, InstrumentType, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { HistogramAggregation, OtlpSignalSettings, TemporalityPreference, TlsSettings } from '../config/types';
import pkg from '../../package.json';

// The package's `node-http` subpath export, which TypeScript's node10 module resolution cannot see.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as said above: import cannot name this subpath
const nodeHttp = require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/build/src/index-node-http');
const { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } = nodeHttp;

type GrpcSettings = OtlpSignalSettings;
type HttpSettings = OtlpSignalSettings & { readonly encoding: 'proto' | 'json' };

const SERVICES = {
  metrics: { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', component: 'otlp_grpc_metric_exporter' },
  logs: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', component: 'otlp_grpc_log_exporter' },
} as const;
// grpc-js compression algorithm ids (compression-algorithms.ts).
const GRPC_COMPRESSION = { none: 0, gzip: 2 } as const;
// The SDK's exporters allow this many exports in flight before refusing more.
const CONCURRENCY_LIMIT = 30;
const USER_AGENT = `netwatch/${pkg.version}`;

const readIf = (path: string): Buffer | null => (path ? readFileSync(path) : null);

/** `http://host:port` and `https://host:port` become host:port; the scheme already decided `tls.insecure`. */
export function grpcTarget(endpoint: string): string {
  if (!/^https?:\/\//.test(endpoint)) return endpoint;
  return new URL(endpoint).host;
}

export function grpcCredentials(tls: TlsSettings): grpc.ChannelCredentials {
  if (tls.insecure) return grpc.credentials.createInsecure();
  // grpc-js ≥ 1.12 rejects an unverifiable chain unless rejectUnauthorized is false as well;
  // checkServerIdentity alone only skips the host name check.
  const verify: grpc.VerifyOptions = tls.insecure_skip_verify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
  return grpc.credentials.createSsl(readIf(tls.ca_file), readIf(tls.key_file), readIf(tls.cert_file), verify);
}

/** Channel options: compression, user agent and, for server_name_override, the TLS name and :authority (as grpc-go does). */
/** The channel's reconnect backoff: first retry after 1 s, never more than 5 s apart. */
const GRPC_INITIAL_RECONNECT_MS = 1000;
const GRPC_MAX_RECONNECT_MS = 5000;

export function grpcChannelOptions(s: GrpcSettings): grpc.ChannelOptions {
  const o: grpc.ChannelOptions = {
    'grpc.default_compression_algorithm': GRPC_COMPRESSION[s.compression],
    'grpc.primary_user_agent': USER_AGENT,
    // gRPC's reconnect backoff grows to 120 s: a collector back after a long outage would wait that
    // long for its first export. 1 s growing to 5 s finds it within one or a few export intervals.
    'grpc.initial_reconnect_backoff_ms': GRPC_INITIAL_RECONNECT_MS,
    'grpc.max_reconnect_backoff_ms': GRPC_MAX_RECONNECT_MS,
  };
  if (s.tls.server_name_override && !s.tls.insecure) {
    o['grpc.ssl_target_name_override'] = s.tls.server_name_override;
    o['grpc.default_authority'] = s.tls.server_name_override;
  }
  return o;
}

class GrpcTransport implements IExporterTransport {
  private client: grpc.Client | undefined;
  private readonly metadata = new grpc.Metadata();

  constructor(
    private readonly s: GrpcSettings,
    private readonly path: string,
  ) {
    for (const [k, v] of Object.entries(s.headers)) this.metadata.set(k, v);
  }

  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    try {
      this.client ??= new grpc.Client(grpcTarget(this.s.endpoint), grpcCredentials(this.s.tls), grpcChannelOptions(this.s));
    } catch (error) {
      return Promise.resolve({ status: 'failure', error: error as Error });
    }
    const client = this.client;
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        this.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(data),
        this.metadata,
        { deadline: Date.now() + timeoutMillis },
        (err: grpc.ServiceError | null, res?: Buffer) => resolve(err ? { status: 'failure', error: err } : { status: 'success', data: res }),
      );
    });
  }

  shutdown(): void {
    this.client?.close();
    this.client = undefined;
  }
}

function delegate<T, R>(signal: keyof typeof SERVICES, s: GrpcSettings, serializer: ISerializer<T, R>, helper: IExporterMetricsHelper<T>) {
  const { path, component } = SERVICES[signal];
  // No meter provider: the SDK's exporter self-metrics stay no-ops (netwatch counts failures itself).
  const metrics = new ExporterMetrics<T>({
    componentType: component,
    metricsHelper: helper,
    url: s.endpoint,
    meterProvider: undefined,
    responseAttributesFromError: () => ({}),
  });
  return createOtlpNetworkExportDelegate(
    { timeoutMillis: s.timeout_ms, concurrencyLimit: CONCURRENCY_LIMIT, compression: s.compression },
    serializer,
    metrics,
    new GrpcTransport(s, path),
  );
}

const TEMPORALITY: Readonly<Record<TemporalityPreference, AggregationTemporalityPreference>> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/**
 * The reader's aggregation of the SDK's own histogram instruments (netwatch's pre-aggregated ones
 * follow the same setting through HistogramProducer.exponential()): the exporter's
 * histogram_aggregation, as OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION is in the SDK.
 */
export function aggregationPreference(h: HistogramAggregation): (type: InstrumentType) => AggregationOption {
  return (type) =>
    type === InstrumentType.HISTOGRAM && h === 'base2_exponential_bucket_histogram'
      ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
      : { type: AggregationType.DEFAULT };
}

export function grpcMetricExporter(s: GrpcSettings, temporality: TemporalityPreference, histograms: HistogramAggregation): PushMetricExporter {
  return new OTLPMetricExporterBase(delegate('metrics', s, ProtobufMetricsSerializer, MetricsExporterMetricsHelper), {
    temporalityPreference: TEMPORALITY[temporality],
    aggregationPreference: aggregationPreference(histograms),
  });
}

export function grpcLogExporter(s: GrpcSettings): LogRecordExporter {
  return new OTLPExporterBase<ReadableLogRecord[]>(delegate('logs', s, ProtobufLogsSerializer, LogsExporterMetricsHelper));
}

const CONTENT_TYPE = { proto: 'application/x-protobuf', json: 'application/json' } as const;

function httpDelegate<T, R>(s: HttpSettings, serializer: ISerializer<T, R>, component: string, helper: IExporterMetricsHelper<T>) {
  const agent: Record<string, unknown> = { keepAlive: true };
  if (s.tls.ca_file) agent.ca = readFileSync(s.tls.ca_file);
  if (s.tls.cert_file) agent.cert = readFileSync(s.tls.cert_file);
  if (s.tls.key_file) agent.key = readFileSync(s.tls.key_file);
  if (s.tls.insecure_skip_verify) agent.rejectUnauthorized = false;
  if (s.tls.server_name_override) agent.servername = s.tls.server_name_override;
  const headers = { ...s.headers, 'Content-Type': CONTENT_TYPE[s.encoding] };
  return createOtlpHttpExportDelegate(
    {
      url: s.endpoint,
      headers: () => Promise.resolve(headers),
      timeoutMillis: s.timeout_ms,
      concurrencyLimit: CONCURRENCY_LIMIT,
      compression: s.compression,
      agentFactory: httpAgentFactoryFromOptions(agent),
      userAgent: USER_AGENT,
    },
    serializer,
    component,
    helper,
    undefined,
  );
}

export function httpMetricExporter(s: HttpSettings, temporality: TemporalityPreference, histograms: HistogramAggregation): PushMetricExporter {
  const serializer = s.encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  const d = httpDelegate(s, serializer, s.encoding === 'json' ? 'otlp_http_json_metric_exporter' : 'otlp_http_metric_exporter', MetricsExporterMetricsHelper);
  return new OTLPMetricExporterBase(d, { temporalityPreference: TEMPORALITY[temporality], aggregationPreference: aggregationPreference(histograms) });
}

export function httpLogExporter(s: HttpSettings): LogRecordExporter {
  const serializer = s.encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  return new OTLPExporterBase<ReadableLogRecord[]>(
    httpDelegate(s, serializer, s.encoding === 'json' ? 'otlp_http_json_log_exporter' : 'otlp_http_log_exporter', LogsExporterMetricsHelper),
  );
}
