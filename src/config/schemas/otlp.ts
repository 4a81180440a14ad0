// exporters.otlp: OTLP over gRPC.
import { defineComponent } from '../component';
import { parseDuration } from '../duration';
import type { OtlpExporterConfig } from '../types';
import { grpcEndpointProblem } from './endpoint';
import { endpointProblem, otlpCommonSpec, resolveHeaders, type OtlpCommonRaw } from './otlp-common';
import { resolveTls } from './tls';

export const otlp = defineComponent<OtlpExporterConfig, OtlpCommonRaw>({
  type: 'otlp',
  summary: 'OTLP over gRPC to a collector (port 4317)',
  schema: (env) => otlpCommonSpec(env, 'grpc', 'localhost:4317', {}),
  build: (s, ctx) => {
    endpointProblem(grpcEndpointProblem, s.endpoint, ctx);
    return {
      type: 'otlp',
      id: ctx.id,
      endpoint: s.endpoint,
      tls: resolveTls(s.tls, s.endpoint, 'grpc', ctx),
      headers: resolveHeaders(s.headers, ctx),
      compression: s.compression,
      timeout_ms: parseDuration(s.timeout)!,
    };
  },
});
