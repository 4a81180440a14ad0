// service: pipelines (checked by ../pipelines.ts) and the agent's own telemetry settings.
import type convict from 'convict';
import type { OtelEnv } from '../otel-env';
import type { SchemaSpec } from '../section';
import type { ServiceConfig } from '../types';

export interface ServiceRaw {
  pipelines: Record<string, unknown>;
  telemetry: {
    logs: { level: ServiceConfig['telemetry']['logs']['level'] };
    metrics: { export_interval: string; cardinality_limit: number };
    resource: Record<string, string | number | boolean>;
  };
}

export function serviceSpec(env: OtelEnv): SchemaSpec<ServiceRaw> {
  const schema: convict.Schema<ServiceRaw> = {
    pipelines: { doc: 'metrics, logs, metrics/<name>, logs/<name>: each {receivers, processors, exporters}.', format: Object, default: {} },
    telemetry: {
      logs: { level: { doc: "The agent's own log level: debug, info, warn or error.", format: 'nw.log-level', default: 'info' } },
      metrics: {
        export_interval: { doc: 'How often metrics are exported (the periodic reader interval).', format: 'nw.duration', default: '60s' },
        cardinality_limit: { doc: 'Most distinct attribute sets per metric; beyond it points go to an overflow series.', format: 'nw.count', default: 2000 },
      },
      resource: {
        doc: 'Resource attributes on everything exported; merged over OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, these win.',
        format: 'nw.string-map',
        default: { ...env.resource },
      },
    },
  };
  return {
    schema,
    hints: {
      extensions: 'netwatch has no extensions',
      'telemetry.traces': 'netwatch does not trace itself',
      'telemetry.metrics.level': 'use the receiver\'s metrics: switches to choose metrics',
      'telemetry.metrics.readers': 'netwatch exports through the exporters listed in pipelines',
    },
  };
}
