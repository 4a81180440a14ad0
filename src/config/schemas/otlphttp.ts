// exporters.otlphttp: OTLP over HTTP, protobuf or JSON.
import { defineComponent } from '../component';
import type { OtlpSignal } from '../otel-env';
import type { OtlpHttpExporterConfig } from '../types';
import { httpEndpointProblem, trimTrailingSlashes } from './endpoint';
import { envProtocol, otlpCommonSpec, resolveSignals, type OtlpCommonRaw } from './otlp-common';

const PATHS: Readonly<Record<OtlpSignal, string>> = { metrics: '/v1/metrics', logs: '/v1/logs' };

export const otlphttp = defineComponent<OtlpHttpExporterConfig, OtlpCommonRaw & { encoding: 'proto' | 'json' }>({
  type: 'otlphttp',
  summary: 'OTLP over HTTP to a collector (port 4318), protobuf or JSON',
  schema: (env) =>
    otlpCommonSpec(env, 'http', 'http://localhost:4318', {
      encoding: {
        doc: 'Body encoding: proto (binary protobuf) or json. Default: json when OTEL_EXPORTER_OTLP_{METRICS,LOGS}_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, is http/json, else proto.',
        format: 'nw.encoding',
        default: 'proto',
      },
    }),
  build: (s, ctx) => {
    // The spec: a per-signal variable is the full URL; the base URLs (file or generic variable) get the signal's path.
    const endpointOf = (signal: OtlpSignal) => {
      const base = (e: string) => (httpEndpointProblem(e) ? e : trimTrailingSlashes(e) + PATHS[signal]);
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
    };
  },
});
