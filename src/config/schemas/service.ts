// service: pipelines (checked by ../pipelines.ts) and the agent's own telemetry settings.
import type convict from 'convict';
import type { OtelEnv } from '../otel-env';
import type { SchemaSpec } from '../section';
import type { ServiceConfig } from '../types';

export interface ServiceRaw {
  pipelines: Record<string, unknown>;
  shutdown_timeout: string;
  server: { enabled: boolean; host: string; port: number; bearer_token: string; window: { max_events: number; max_age: string } };
  telemetry: {
    logs: { level: ServiceConfig['telemetry']['logs']['level'] };
    metrics: { export_interval: string; export_timeout: string; cardinality_limit: number };
    resource: Record<string, string | number | boolean>;
  };
}

export function serviceSpec(env: OtelEnv): SchemaSpec<ServiceRaw> {
  const schema: convict.Schema<ServiceRaw> = {
    pipelines: { doc: 'metrics, logs, metrics/<name>, logs/<name>: each {receivers, processors, exporters}.', format: Object, default: {} },
    shutdown_timeout: {
      doc: 'On SIGTERM/SIGINT the agent stops reading, flushes one last export and detaches its probes; if that takes longer, it exits anyway (code 1). The last export gets half of it.',
      format: 'nw.duration',
      default: '10s',
    },
    server: {
      enabled: {
        doc: "Serve the agent's own HTTP endpoints: /livez, /readyz, /health, the query API under /api/v1, /openapi.json and its /docs page.",
        format: 'nw.bool',
        default: false,
      },
      // Loopback by default, as for the prometheus exporter: the query API shows every process's connections.
      host: { doc: 'Address to listen on; 127.0.0.1 (loopback only) unless set, 0.0.0.0 for every interface.', format: 'nw.host', default: '127.0.0.1' },
      port: { doc: 'TCP port to listen on.', format: 'nw.port', default: 9465 },
      bearer_token: {
        doc: 'If set, every request but /livez and /readyz needs `Authorization: Bearer <token>` (compared in constant time, never logged); use ${env:NETWATCH_API_TOKEN}.',
        format: 'nw.bearer-token',
        default: '',
      },
      window: {
        max_events: {
          doc: 'Most recent events the query API keeps in memory, per source (connections, sni); the oldest go first.',
          format: 'nw.count',
          default: 10000,
        },
        max_age: { doc: 'Events older than this are no longer returned by the query API.', format: 'nw.duration', default: '15m' },
      },
    },
    telemetry: {
      logs: { level: { doc: "The agent's own log level: debug, info, warn or error.", format: 'nw.log-level', default: 'info' } },
      metrics: {
        export_interval: {
          doc: 'How often metrics are exported (the periodic reader interval). Default: OTEL_METRIC_EXPORT_INTERVAL (milliseconds), else 60s.',
          format: 'nw.duration',
          default: env.metricExportInterval ?? '60s',
        },
        export_timeout: {
          doc: "Time limit of one collect-and-export, never more than export_interval or the exporter's own timeout. Default: OTEL_METRIC_EXPORT_TIMEOUT (milliseconds), else 30s.",
          format: 'nw.duration',
          default: env.metricExportTimeout ?? '30s',
        },
        cardinality_limit: { doc: 'Most distinct attribute sets per metric; beyond it points go to an overflow series.', format: 'nw.count', default: 2000 },
      },
      resource: {
        doc: 'Resource attributes on everything exported; merged over OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, these win.',
        format: 'nw.string-map',
        default: { ...env.resource },
      },
    },
  };
  const envProblems: Record<string, string> = {};
  if (env.problems.exportInterval) envProblems['telemetry.metrics.export_interval'] = env.problems.exportInterval;
  if (env.problems.exportTimeout) envProblems['telemetry.metrics.export_timeout'] = env.problems.exportTimeout;
  // No file key of their own: reported at the section they concern, always.
  if (env.problems.temporality) envProblems['telemetry.metrics'] = env.problems.temporality;
  if (env.problems.logLevel) envProblems['telemetry.logs'] = env.problems.logLevel;
  if (env.problems.sdkDisabled) envProblems.telemetry = env.problems.sdkDisabled;
  return {
    schema,
    envProblems,
    hints: {
      extensions: 'netwatch has no extensions',
      'telemetry.traces': 'netwatch does not trace itself',
      'telemetry.metrics.level': "use the receiver's metrics: switches to choose metrics",
      'telemetry.metrics.readers': 'netwatch exports through the exporters listed in pipelines',
    },
  };
}
