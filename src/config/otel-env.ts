// The standard OTEL_* variables (OpenTelemetry SDK environment specification) as defaults for the
// OTLP exporters, the metric reader, the resource and the SDK's diagnostics. The loader is the only
// reader of the environment: the exporters are built so that the SDK reads none of it itself.
//
// Precedence, per setting: the file > OTEL_EXPORTER_OTLP_{METRICS,LOGS}_* > OTEL_EXPORTER_OTLP_* >
// the built-in default. The collector reads no OTEL_* variables at all (only ${env:VAR} in the
// file), so what the file says always wins; the variables fill what it leaves unset.
import type { Env } from './env-substitution';
import { readNomadEnv, type NomadEnvDefaults } from './nomad-env';
import type { HistogramAggregation } from './types';

export type OtlpSignal = 'metrics' | 'logs';
export const OTLP_SIGNALS: readonly OtlpSignal[] = ['metrics', 'logs'];
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export type Temporality = 'cumulative' | 'delta' | 'lowmemory';
/** OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION's values. */
export const HISTOGRAM_AGGREGATIONS: readonly HistogramAggregation[] = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'];
export type SdkLogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';

/** One layer of OTEL_EXPORTER_OTLP_[SIGNAL_]* values, each already checked. */
export interface OtlpEnvDefaults {
  endpoint?: string;
  headers?: Readonly<Record<string, string>>;
  protocol?: OtlpProtocol;
  insecure?: boolean;
  certificate?: string;
  clientCertificate?: string;
  clientKey?: string;
  compression?: string;
  /** As a duration string (`2500ms`), for the schema default. */
  timeout?: string;
}

export type OtlpSetting = keyof OtlpEnvDefaults;

/** A variable that could not be used, with why; values of the headers variables are never quoted. */
export interface EnvProblem {
  variable: string;
  message: string;
}

export interface OtelEnv {
  /** OTEL_EXPORTER_OTLP_* (every signal). */
  otlp: OtlpEnvDefaults;
  /** OTEL_EXPORTER_OTLP_METRICS_* and OTEL_EXPORTER_OTLP_LOGS_*, over `otlp` for their signal. */
  signals: Readonly<Record<OtlpSignal, OtlpEnvDefaults>>;
  /** Problems with the OTLP variables, by signal ('' = the generic variable) and setting. */
  otlpProblems: Partial<Record<OtlpSetting, string>>;
  signalProblems: Readonly<Record<OtlpSignal, Partial<Record<OtlpSetting, string>>>>;
  /** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, default cumulative. */
  temporality: Temporality;
  /** OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, when set and valid. */
  histogramAggregation?: HistogramAggregation;
  /** OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT as duration strings. */
  metricExportInterval?: string;
  metricExportTimeout?: string;
  /** OTEL_SDK_DISABLED=true: nothing is exported (pipelines still run for the query API). */
  sdkDisabled: boolean;
  /** OTEL_LOG_LEVEL: how much of the OpenTelemetry SDK's own diagnostics reaches the agent's log. */
  sdkLogLevel?: SdkLogLevel;
  /** Problems with the other variables, reported at the setting they feed. */
  problems: {
    temporality?: string;
    histogramAggregation?: string;
    exportInterval?: string;
    exportTimeout?: string;
    sdkDisabled?: string;
    logLevel?: string;
  };
  resource: Readonly<Record<string, string>>;
  resourceProblem?: string;
  /** The NOMAD_* client variables (defaults for nomad_autostart). */
  nomad: NomadEnvDefaults;
}

/** The spec treats an empty variable as unset. */
function get(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `OTEL_EXPORTER_OTLP_` + `METRICS_` + `HEADERS`. */
export function otlpVariable(signal: OtlpSignal | undefined, setting: string): string {
  return `OTEL_EXPORTER_OTLP_${signal ? `${signal.toUpperCase()}_` : ''}${setting}`;
}

const SETTING_SUFFIX: Readonly<Record<OtlpSetting, string>> = {
  endpoint: 'ENDPOINT',
  headers: 'HEADERS',
  protocol: 'PROTOCOL',
  insecure: 'INSECURE',
  certificate: 'CERTIFICATE',
  clientCertificate: 'CLIENT_CERTIFICATE',
  clientKey: 'CLIENT_KEY',
  compression: 'COMPRESSION',
  timeout: 'TIMEOUT',
};

/** The variable a setting's value came from: the signal's own when it set it, else the generic one. */
export function variableOf(env: OtelEnv, signal: OtlpSignal, setting: OtlpSetting): string | undefined {
  if (env.signals[signal][setting] !== undefined || env.signalProblems[signal][setting]) return otlpVariable(signal, SETTING_SUFFIX[setting]);
  if (env.otlp[setting] !== undefined || env.otlpProblems[setting]) return otlpVariable(undefined, SETTING_SUFFIX[setting]);
  return undefined;
}

/** `k=v,k2=v2` with percent-encoded keys and values (W3C Baggage style), as the spec defines for headers and resource. */
export function parseKeyValueList(text: string, variable: string): { map: Record<string, string>; problem?: string } {
  const map: Record<string, string> = {};
  const bad: number[] = [];
  text.split(',').forEach((entry, i) => {
    if (entry.trim() === '') return;
    const eq = entry.indexOf('=');
    try {
      const key = decodeURIComponent(entry.slice(0, eq).trim());
      if (eq <= 0 || key === '') throw new Error('not key=value');
      map[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      bad.push(i + 1);
    }
  });
  if (!bad.length) return { map };
  // Entries are numbered, never quoted: the headers variables usually carry credentials.
  return { map, problem: `${variable}: entr${bad.length > 1 ? 'ies' : 'y'} ${bad.join(', ')} must be key=value (percent-encoded), separated by commas` };
}

const PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
const TEMPORALITIES: readonly Temporality[] = ['cumulative', 'delta', 'lowmemory'];
const LOG_LEVELS: readonly SdkLogLevel[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];

function milliseconds(env: Env, variable: string): { value?: string; problem?: string } {
  const v = get(env, variable);
  if (v === undefined) return {};
  if (/^\d+$/.test(v) && Number(v) > 0) return { value: `${Number(v)}ms` };
  return { problem: `its default from ${variable}=${JSON.stringify(v)} must be a whole number of milliseconds above 0` };
}

function readOtlpLayer(env: Env, signal: OtlpSignal | undefined): { values: OtlpEnvDefaults; problems: Partial<Record<OtlpSetting, string>> } {
  const name = (suffix: string) => otlpVariable(signal, suffix);
  const values: OtlpEnvDefaults = {};
  const problems: Partial<Record<OtlpSetting, string>> = {};
  values.endpoint = get(env, name('ENDPOINT'));
  const headers = get(env, name('HEADERS'));
  if (headers !== undefined) {
    const r = parseKeyValueList(headers, name('HEADERS'));
    values.headers = r.map;
    if (r.problem) problems.headers = r.problem;
  }
  const protocol = get(env, name('PROTOCOL'));
  if (protocol !== undefined) {
    if ((PROTOCOLS as readonly string[]).includes(protocol)) values.protocol = protocol as OtlpProtocol;
    else problems.protocol = `${name('PROTOCOL')}=${JSON.stringify(protocol)} must be one of ${PROTOCOLS.join(', ')}`;
  }
  const insecure = get(env, name('INSECURE'));
  if (insecure !== undefined) {
    if (/^(true|false)$/i.test(insecure)) values.insecure = insecure.toLowerCase() === 'true';
    else problems.insecure = `its default from ${name('INSECURE')}=${JSON.stringify(insecure)} must be true or false`;
  }
  values.certificate = get(env, name('CERTIFICATE'));
  values.clientCertificate = get(env, name('CLIENT_CERTIFICATE'));
  values.clientKey = get(env, name('CLIENT_KEY'));
  values.compression = get(env, name('COMPRESSION'));
  const timeout = milliseconds(env, name('TIMEOUT'));
  values.timeout = timeout.value;
  if (timeout.problem) problems.timeout = timeout.problem;
  for (const k of Object.keys(values) as OtlpSetting[]) if (values[k] === undefined) delete values[k];
  return { values, problems };
}

export function readOtelEnv(env: Env): OtelEnv {
  const generic = readOtlpLayer(env, undefined);
  const metrics = readOtlpLayer(env, 'metrics');
  const logs = readOtlpLayer(env, 'logs');
  const problems: OtelEnv['problems'] = {};

  let temporality: Temporality = 'cumulative';
  const t = get(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE');
  if (t !== undefined) {
    // The spec makes the value case-insensitive.
    if ((TEMPORALITIES as readonly string[]).includes(t.toLowerCase())) temporality = t.toLowerCase() as Temporality;
    else problems.temporality = `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=${JSON.stringify(t)} must be one of ${TEMPORALITIES.join(', ')}`;
  }
  let histogramAggregation: HistogramAggregation | undefined;
  const h = get(env, 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION');
  if (h !== undefined) {
    if ((HISTOGRAM_AGGREGATIONS as readonly string[]).includes(h.toLowerCase())) histogramAggregation = h.toLowerCase() as HistogramAggregation;
    else
      problems.histogramAggregation = `its default from OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=${JSON.stringify(h)} must be one of ${HISTOGRAM_AGGREGATIONS.join(', ')}`;
  }
  const interval = milliseconds(env, 'OTEL_METRIC_EXPORT_INTERVAL');
  problems.exportInterval = interval.problem;
  const timeout = milliseconds(env, 'OTEL_METRIC_EXPORT_TIMEOUT');
  problems.exportTimeout = timeout.problem;

  let sdkDisabled = false;
  const disabled = get(env, 'OTEL_SDK_DISABLED');
  if (disabled !== undefined) {
    if (/^(true|false)$/i.test(disabled)) sdkDisabled = disabled.toLowerCase() === 'true';
    else problems.sdkDisabled = `OTEL_SDK_DISABLED=${JSON.stringify(disabled)} must be true or false`;
  }
  let sdkLogLevel: SdkLogLevel | undefined;
  const level = get(env, 'OTEL_LOG_LEVEL');
  if (level !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(level.toLowerCase())) sdkLogLevel = level.toLowerCase() as SdkLogLevel;
    else problems.logLevel = `OTEL_LOG_LEVEL=${JSON.stringify(level)} must be one of ${LOG_LEVELS.join(', ')}`;
  }
  for (const k of Object.keys(problems) as (keyof OtelEnv['problems'])[]) if (problems[k] === undefined) delete problems[k];

  let resource: Record<string, string> = {};
  let resourceProblem: string | undefined;
  const attrs = get(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (attrs !== undefined) {
    const r = parseKeyValueList(attrs, 'OTEL_RESOURCE_ATTRIBUTES');
    resource = r.map;
    resourceProblem = r.problem;
  }
  // The spec gives OTEL_SERVICE_NAME precedence over service.name in OTEL_RESOURCE_ATTRIBUTES.
  const serviceName = get(env, 'OTEL_SERVICE_NAME');
  if (serviceName !== undefined) resource = { ...resource, 'service.name': serviceName };

  return {
    otlp: generic.values,
    otlpProblems: generic.problems,
    signals: { metrics: metrics.values, logs: logs.values },
    signalProblems: { metrics: metrics.problems, logs: logs.problems },
    temporality,
    ...(histogramAggregation ? { histogramAggregation } : {}),
    ...(interval.value ? { metricExportInterval: interval.value } : {}),
    ...(timeout.value ? { metricExportTimeout: timeout.value } : {}),
    sdkDisabled,
    ...(sdkLogLevel ? { sdkLogLevel } : {}),
    problems,
    resource,
    resourceProblem,
    nomad: readNomadEnv(env),
  };
}
