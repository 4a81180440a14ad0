// Settings shared by the otlp (gRPC) and otlphttp exporters, with their OTEL_* defaults.
import type convict from 'convict';
import type { BuildContext } from '../component';
import type { OtelEnv } from '../otel-env';
import { joinPath } from '../problems';
import type { SchemaSpec } from '../section';
import { tlsOrigins, tlsSchema, type TlsRaw } from './tls';

export interface OtlpCommonRaw {
  endpoint: string;
  tls: TlsRaw;
  headers: Record<string, string | number | boolean>;
  compression: 'gzip' | 'none';
  timeout: string;
}

export function otlpCommonSpec<Extra>(env: OtelEnv, mode: 'grpc' | 'http', endpointDefault: string, extra: convict.Schema<Extra>): SchemaSpec<OtlpCommonRaw & Extra> {
  const e = env.otlp;
  const origins: Record<string, string> = { ...tlsOrigins(e) };
  if (e.endpoint) origins.endpoint = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (e.compression) origins.compression = 'OTEL_EXPORTER_OTLP_COMPRESSION';
  const envProblems: Record<string, string> = {};
  if (env.otlpProblems.timeout) envProblems.timeout = env.otlpProblems.timeout;
  if (env.otlpProblems.insecure && mode === 'grpc') envProblems['tls.insecure'] = env.otlpProblems.insecure;
  const common: convict.Schema<OtlpCommonRaw> = {
    endpoint: {
      doc: mode === 'grpc' ? 'Collector address, host:port or http(s)://host:port. Default: OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4317.' : 'Base URL; /v1/metrics and /v1/logs are appended. Default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318.',
      format: 'nw.text',
      default: e.endpoint ?? endpointDefault,
    },
    tls: tlsSchema(e, mode),
    headers: {
      doc: 'Headers sent with every export (credentials go here; never logged). Merged over OTEL_EXPORTER_OTLP_HEADERS, these win.',
      format: 'nw.header-map',
      default: { ...(e.headers ?? {}) },
    },
    compression: { doc: 'gzip or none. Default: OTEL_EXPORTER_OTLP_COMPRESSION, else gzip.', format: 'nw.compression', default: (e.compression ?? 'gzip') as OtlpCommonRaw['compression'] },
    timeout: { doc: 'Time limit of one export request. Default: OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds), else 10s.', format: 'nw.duration', default: e.timeout ?? '10s' },
  };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it tsc gives up on the spread's type (TS2590)
  return { schema: { ...common, ...extra } as convict.Schema<OtlpCommonRaw & Extra>, origins, envProblems };
}

/** Header values become strings (`X-Org-Id: 42`); a broken OTEL_EXPORTER_OTLP_HEADERS is reported even when the file adds headers, since they merge. */
export function resolveHeaders(raw: OtlpCommonRaw['headers'], ctx: BuildContext): Record<string, string> {
  if (ctx.env.otlpProblems.headers) ctx.problems.push({ path: joinPath(ctx.path, 'headers'), message: ctx.env.otlpProblems.headers });
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}

export function endpointProblem(check: (e: string) => string | undefined, endpoint: string, ctx: BuildContext): void {
  const why = check(endpoint);
  if (!why) return;
  const origin = !ctx.provided.has('endpoint') && ctx.env.otlp.endpoint ? ' (this default comes from OTEL_EXPORTER_OTLP_ENDPOINT)' : '';
  ctx.problems.push({ path: joinPath(ctx.path, 'endpoint'), message: why + origin });
}
