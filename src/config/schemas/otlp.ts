// exporters.otlp: OTLP over gRPC.
import { defineComponent } from '../component';
import type { OtlpExporterConfig } from '../types';
import { grpcEndpointProblem } from './endpoint';
import { otlpCommonSpec, resolveSignals, type OtlpCommonRaw } from './otlp-common';

export const otlpGrpc = defineComponent<OtlpExporterConfig, OtlpCommonRaw>({
  type: 'otlp',
  summary: 'OTLP over gRPC to a collector (port 4317)',
  schema: (env) => otlpCommonSpec(env, 'grpc', 'http://localhost:4317', {}),
  build: (s, ctx) => {
    const endpointOf = (signal: 'metrics' | 'logs') => {
      if (ctx.provided.has('endpoint')) return { endpoint: s.endpoint };
      const own = ctx.env.signals[signal].endpoint;
      if (own !== undefined) return { endpoint: own, variable: `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT` };
      return { endpoint: s.endpoint, variable: ctx.env.otlp.endpoint ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : undefined };
    };
    const signals = resolveSignals(s, 'grpc', ctx, endpointOf, grpcEndpointProblem);
    return { type: 'otlp', id: ctx.id, ...signals, temporality: ctx.env.temporality, histogram_aggregation: s.histogram_aggregation };
  },
});

/** The collector renamed `otlp` to `otlp_grpc` in v0.144 and keeps the old name as an alias; so does netwatch. */
export const otlp = defineComponent<OtlpExporterConfig, OtlpCommonRaw>({
  ...otlpGrpc,
  summary: 'the old name of otlp_grpc (deprecated: the collector renamed it in v0.144)',
  deprecatedAliasOf: 'otlp_grpc',
});
