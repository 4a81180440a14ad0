// exporters.otlphttp: OTLP over HTTP, protobuf or JSON.
import { defineComponent } from '../component';
import type { OtlpSignal } from '../otel-env';
import type { OtlpHttpExporterConfig } from '../types';
import { httpEndpointProblem, trimTrailingSlashes } from './endpoint';
import { envProtocol, otlpCommonSpec, resolveSignals, type OtlpCommonRaw } from './otlp-common';

const PATHS: Readonly<Record<OtlpSignal, string>> = { metrics: '/v1/metrics', logs: '/v1/logs' };

type HttpRaw = OtlpCommonRaw & { encoding: 'proto' | 'json'; metrics_endpoint: string; logs_endpoint: string };

export const otlpHttp = defineComponent<OtlpHttpExporterConfig, HttpRaw>({
  type: 'otlphttp',
  summary: 'OTLP over HTTP to a collector (port 4318), protobuf or JSON',
  schema: (env) =>
    otlpCommonSpec(env, 'http', 'http://localhost:4318', {
      encoding: {
        doc: 'Body encoding: proto (binary protobuf) or json. Default: json when OTEL_EXPORTER_OTLP_{METRICS,LOGS}_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, is http/json, else proto.',
        format: 'nw.encoding',
        default: 'proto',
      },
      metrics_endpoint: {
        doc: 'Full URL for metrics, used as is, instead of endpoint + /v1/metrics. Default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT.',
        format: 'nw.text',
        default: '',
      },
      logs_endpoint: {
        doc: 'Full URL for logs, used as is, instead of endpoint + /v1/logs. Default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT.',
        format: 'nw.text',
        default: '',
      },
    }),
  build: (s, ctx) => {
    // The spec: a per-signal variable is the full URL; the base URLs (file or generic variable) get the signal's path.
    const endpointOf = (signal: OtlpSignal) => {
      const base = (e: string) => (httpEndpointProblem(e) ? e : trimTrailingSlashes(e) + PATHS[signal]);
      const key = `${signal}_endpoint` as const;
      if (ctx.provided.has(key) && s[key] !== '') return { endpoint: s[key], key };
      if (ctx.provided.has('endpoint')) return { endpoint: base(s.endpoint) };
      const own = ctx.env.signals[signal].endpoint;
      if (own !== undefined) return { endpoint: own, variable: `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT` };
      return { endpoint: base(s.endpoint), variable: ctx.env.otlp.endpoint ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : undefined };
    };
    const signals = resolveSignals(s, 'http', ctx, endpointOf, httpEndpointProblem);
    const encoding = (signal: OtlpSignal): 'proto' | 'json' => {
      if (ctx.provided.has('encoding')) return s.encoding;
      const p = envProtocol(ctx.env, signal);
      return p === 'http/json' ? 'json' : p === 'http/protobuf' ? 'proto' : s.encoding;
    };
    return {
      type: 'otlphttp',
      id: ctx.id,
      metrics: { ...signals.metrics, encoding: encoding('metrics') },
      logs: { ...signals.logs, encoding: encoding('logs') },
      temporality: ctx.env.temporality,
      histogram_aggregation: s.histogram_aggregation,
    };
  },
});

/** The collector renamed `otlphttp` to `otlp_http` in v0.144 and keeps the old name as an alias; so does netwatch. */
export const otlphttp = defineComponent<OtlpHttpExporterConfig, HttpRaw>({
  ...otlpHttp,
  summary: 'the old name of otlp_http (deprecated: the collector renamed it in v0.144)',
  deprecatedAliasOf: 'otlp_http',
});
