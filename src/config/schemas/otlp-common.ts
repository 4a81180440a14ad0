// Settings shared by the otlp (gRPC) and otlphttp exporters, with their OTEL_* defaults, and their
// resolution per signal: the file > OTEL_EXPORTER_OTLP_<SIGNAL>_* > OTEL_EXPORTER_OTLP_* > default.
import type convict from 'convict';
import type { BuildContext } from '../component';
import { parseDuration } from '../duration';
import { formatProblem } from '../formats';
import { OTLP_SIGNALS, otlpVariable, type OtelEnv, type OtlpProtocol, type OtlpSignal, variableOf } from '../otel-env';
import { joinPath } from '../problems';
import type { SchemaSpec } from '../section';
import type { HistogramAggregation, OtlpSignalSettings } from '../types';
import { resolveTls, tlsOrigins, tlsSchema, type TlsRaw } from './tls';

export interface OtlpCommonRaw {
  endpoint: string;
  tls: TlsRaw;
  headers: Record<string, string | number | boolean>;
  compression: 'gzip' | 'none';
  timeout: string;
  histogram_aggregation: HistogramAggregation;
}

export type OtlpMode = 'grpc' | 'http';

export function otlpCommonSpec<Extra>(env: OtelEnv, mode: OtlpMode, endpointDefault: string, extra: convict.Schema<Extra>): SchemaSpec<OtlpCommonRaw & Extra> {
  const e = env.otlp;
  const origins: Record<string, string> = { ...tlsOrigins(e) };
  if (e.endpoint) origins.endpoint = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (e.compression) origins.compression = 'OTEL_EXPORTER_OTLP_COMPRESSION';
  const envProblems: Record<string, string> = {};
  if (env.otlpProblems.timeout) envProblems.timeout = env.otlpProblems.timeout;
  if (env.problems.histogramAggregation) envProblems.histogram_aggregation = env.problems.histogramAggregation;
  if (env.histogramAggregation) origins.histogram_aggregation = 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION';
  if (env.otlpProblems.insecure && mode === 'grpc') envProblems['tls.insecure'] = env.otlpProblems.insecure;
  const common: convict.Schema<OtlpCommonRaw> = {
    endpoint: {
      doc:
        mode === 'grpc'
          ? "Collector address, host:port or http(s)://host:port. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_ENDPOINT per signal, else OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4317 (plaintext, the spec's default)."
          : 'Base URL; /v1/metrics and /v1/logs are appended. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_ENDPOINT per signal (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318.',
      format: 'nw.text',
      default: e.endpoint ?? endpointDefault,
    },
    tls: tlsSchema(e, mode),
    headers: {
      doc: 'Headers sent with every export (credentials go here; never logged). Merged over OTEL_EXPORTER_OTLP_HEADERS and, per signal, OTEL_EXPORTER_OTLP_{METRICS,LOGS}_HEADERS; these win.',
      format: 'nw.header-map',
      default: {},
    },
    compression: {
      doc: 'gzip or none. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_COMPRESSION, else OTEL_EXPORTER_OTLP_COMPRESSION, else gzip.',
      format: 'nw.compression',
      default: (e.compression ?? 'gzip') as OtlpCommonRaw['compression'],
    },
    timeout: {
      doc: 'Time limit of one export request. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds), else 10s.',
      format: 'nw.duration',
      default: e.timeout ?? '10s',
    },
    histogram_aggregation: {
      doc:
        "How this exporter's histograms are aggregated: explicit_bucket_histogram (the catalogue's or the receiver's boundaries) or " +
        'base2_exponential_bucket_histogram (OTLP exponential histograms: scale 20 down to what 160 buckets need, no boundaries to choose). ' +
        "Applies to every histogram, the SDK's and the ones netwatch aggregates itself (which then also keep exponential buckets for this exporter); " +
        "histograms the kernel counts into explicit buckets (the connections receiver's) come at the finest scale that holds each of the kernel's buckets in one, which the kernel's bounds decide. " +
        'Default: OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, else explicit_bucket_histogram.',
      format: 'nw.histogram-aggregation',
      default: env.histogramAggregation ?? 'explicit_bucket_histogram',
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it tsc gives up on the spread's type (TS2590)
  return { schema: { ...common, ...extra } as convict.Schema<OtlpCommonRaw & Extra>, origins, envProblems, hints: COLLECTOR_HINTS };
}

// The collector's exporterhelper settings netwatch does not take, with why and what to do instead.
const COLLECTOR_HINTS: Readonly<Record<string, string>> = {
  retry_on_failure:
    'netwatch keeps no retry queue: failed exports are counted and reported in /health, OTLP/HTTP retries a retryable failure with backoff within timeout, and cumulative metrics (the default) lose nothing, as the next interval sends their totals; remove it (give one export longer with timeout)',
  sending_queue:
    "netwatch's queues are fixed: log records wait in one bounded queue per exporter (2048; the excess is counted in otel.sdk.processor.log.processed with error.type=queue_full) and metrics are read afresh each interval; remove it (lower the receivers' logs.max_per_second to send less)",
  auth: 'netwatch has no authenticator extensions; send credentials as headers, e.g. authorization: "Bearer ${env:TOKEN}"',
  traces_endpoint: 'netwatch exports no traces',
  balancer_name: 'netwatch connects to one collector address; put a load balancer in front of several',
};

/** Adds a problem once (the generic variables would otherwise be reported for each signal). */
function report(ctx: BuildContext, rel: string, message: string): void {
  const path = rel ? joinPath(ctx.path, rel) : ctx.path;
  if (!ctx.problems.some((p) => p.path === path && p.message === message)) ctx.problems.push({ path, message });
}

const fromVariable = (variable: string | undefined): string => (variable ? ` (this default comes from ${variable})` : '');

/** The protocol the environment asks of this signal, if any. */
export function envProtocol(env: OtelEnv, signal: OtlpSignal): OtlpProtocol | undefined {
  return env.signals[signal].protocol ?? env.otlp.protocol;
}

/**
 * `_PROTOCOL` chooses among what the exporter type allows (the type is part of the file, and the
 * file wins); a variable asking for the other transport is reported rather than silently ignored.
 */
function checkProtocol(mode: OtlpMode, ctx: BuildContext): void {
  for (const signal of OTLP_SIGNALS) {
    const bad = ctx.env.signalProblems[signal].protocol ?? ctx.env.otlpProblems.protocol;
    if (bad) report(ctx, '', bad);
    const p = envProtocol(ctx.env, signal);
    if (p === undefined || (p === 'grpc') === (mode === 'grpc')) continue;
    const variable = variableOf(ctx.env, signal, 'protocol')!;
    report(
      ctx,
      '',
      mode === 'grpc'
        ? `${variable}=${p} asks for OTLP/HTTP, but this exporter speaks OTLP/gRPC; export ${signal} with an otlp_http exporter instead, or unset ${variable}`
        : `${variable}=grpc asks for OTLP/gRPC, but this exporter speaks OTLP/HTTP; export ${signal} with an otlp_grpc exporter instead, or unset ${variable}`,
    );
  }
}

/** Every signal's settings, each from the file if it sets it, else that signal's variable, else the generic one (already the schema default). */
export function resolveSignals(
  s: OtlpCommonRaw,
  mode: OtlpMode,
  ctx: BuildContext,
  endpointOf: (signal: OtlpSignal) => { endpoint: string; variable?: string; key?: string },
  check: (endpoint: string) => string | undefined,
): Record<OtlpSignal, OtlpSignalSettings> {
  const { env, provided } = ctx;
  checkProtocol(mode, ctx);
  if (env.otlpProblems.headers) report(ctx, 'headers', env.otlpProblems.headers);
  const out = {} as Record<OtlpSignal, OtlpSignalSettings>;
  for (const signal of OTLP_SIGNALS) {
    const sig = env.signals[signal];
    const problems = env.signalProblems[signal];
    if (problems.headers) report(ctx, 'headers', problems.headers);

    const { endpoint, variable, key = 'endpoint' } = endpointOf(signal);
    const why = check(endpoint);
    if (why && !ctx.invalid.has(key)) report(ctx, key, why + fromVariable(variable));

    // Header names from the environment get the file's check; values are never quoted.
    const envHeaders = { ...(env.otlp.headers ?? {}), ...(sig.headers ?? {}) };
    const badName = formatProblem('nw.header-map', envHeaders);
    if (badName) report(ctx, 'headers', `${badName}${fromVariable(variableOf(env, signal, 'headers'))}`);
    const headers = { ...envHeaders, ...Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k, String(v)])) };

    let compression = s.compression;
    if (!provided.has('compression') && sig.compression !== undefined) {
      const bad = formatProblem('nw.compression', sig.compression);
      if (bad) report(ctx, 'compression', `${bad}${fromVariable(otlpVariable(signal, 'COMPRESSION'))}`);
      else compression = sig.compression as OtlpCommonRaw['compression'];
    }

    let timeout = s.timeout;
    if (!provided.has('timeout')) {
      if (problems.timeout) report(ctx, 'timeout', problems.timeout);
      else if (sig.timeout !== undefined) timeout = sig.timeout;
    }
    if (!provided.has('tls.insecure') && problems.insecure && mode === 'grpc') report(ctx, 'tls.insecure', problems.insecure);

    const tlsRaw: TlsRaw = {
      ...s.tls,
      ca_file: !provided.has('tls.ca_file') && sig.certificate !== undefined ? sig.certificate : s.tls.ca_file,
      cert_file: !provided.has('tls.cert_file') && sig.clientCertificate !== undefined ? sig.clientCertificate : s.tls.cert_file,
      key_file: !provided.has('tls.key_file') && sig.clientKey !== undefined ? sig.clientKey : s.tls.key_file,
    };
    const insecureDefault = sig.insecure ?? env.otlp.insecure ?? false;
    out[signal] = {
      endpoint,
      tls: resolveTls(tlsRaw, endpoint, mode, insecureDefault, ctx),
      headers,
      compression,
      timeout_ms: parseDuration(timeout) ?? parseDuration('10s')!,
    };
  }
  return out;
}
