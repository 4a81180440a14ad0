// exporters.otlphttp: OTLP over HTTP, protobuf or JSON.
import { defineComponent } from '../component';
import { parseDuration } from '../duration';
import type { OtlpHttpExporterConfig } from '../types';
import { httpEndpointProblem, trimTrailingSlashes } from './endpoint';
import { endpointProblem, otlpCommonSpec, resolveHeaders, type OtlpCommonRaw } from './otlp-common';
import { resolveTls } from './tls';

export const otlphttp = defineComponent<OtlpHttpExporterConfig, OtlpCommonRaw & { encoding: 'proto' | 'json' }>({
  type: 'otlphttp',
  summary: 'OTLP over HTTP to a collector (port 4318), protobuf or JSON',
  schema: (env) =>
    otlpCommonSpec(env, 'http', 'http://localhost:4318', {
      encoding: { doc: 'Body encoding: proto (binary protobuf) or json.', format: 'nw.encoding', default: 'proto' },
    }),
  build: (s, ctx) => {
    endpointProblem(httpEndpointProblem, s.endpoint, ctx);
    return {
      type: 'otlphttp',
      id: ctx.id,
      endpoint: trimTrailingSlashes(s.endpoint),
      encoding: s.encoding,
      tls: resolveTls(s.tls, s.endpoint, 'http', ctx),
      headers: resolveHeaders(s.headers, ctx),
      compression: s.compression,
      timeout_ms: parseDuration(s.timeout)!,
    };
  },
});
