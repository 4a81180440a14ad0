// The standard OTEL_* variables (OpenTelemetry SDK environment specification) as defaults for
// OTLP exporters and the resource. The loader is the only reader of the environment.
import type { Env } from './env-substitution';
import { readNomadEnv, type NomadEnvDefaults } from './nomad-env';

export interface OtlpEnvDefaults {
  endpoint?: string;
  headers?: Readonly<Record<string, string>>;
  insecure?: boolean;
  certificate?: string;
  clientCertificate?: string;
  clientKey?: string;
  compression?: string;
  /** As a duration string (`2500ms`), for the schema default. */
  timeout?: string;
}

export interface OtelEnv {
  otlp: OtlpEnvDefaults;
  /** Problems with the variables themselves; values are never quoted for the headers variable. */
  otlpProblems: { headers?: string; insecure?: string; timeout?: string };
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
  // Entries are numbered, never quoted: OTEL_EXPORTER_OTLP_HEADERS usually carries credentials.
  return { map, problem: `${variable}: entr${bad.length > 1 ? 'ies' : 'y'} ${bad.join(', ')} must be key=value (percent-encoded), separated by commas` };
}

export function readOtelEnv(env: Env): OtelEnv {
  const otlp: OtlpEnvDefaults = {};
  const otlpProblems: OtelEnv['otlpProblems'] = {};

  otlp.endpoint = get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const headers = get(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  if (headers !== undefined) {
    const r = parseKeyValueList(headers, 'OTEL_EXPORTER_OTLP_HEADERS');
    otlp.headers = r.map;
    otlpProblems.headers = r.problem;
  }
  const insecure = get(env, 'OTEL_EXPORTER_OTLP_INSECURE');
  if (insecure !== undefined) {
    if (/^(true|false)$/i.test(insecure)) otlp.insecure = insecure.toLowerCase() === 'true';
    else otlpProblems.insecure = `its default from OTEL_EXPORTER_OTLP_INSECURE=${JSON.stringify(insecure)} must be true or false`;
  }
  otlp.certificate = get(env, 'OTEL_EXPORTER_OTLP_CERTIFICATE');
  otlp.clientCertificate = get(env, 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE');
  otlp.clientKey = get(env, 'OTEL_EXPORTER_OTLP_CLIENT_KEY');
  otlp.compression = get(env, 'OTEL_EXPORTER_OTLP_COMPRESSION');
  const timeout = get(env, 'OTEL_EXPORTER_OTLP_TIMEOUT');
  if (timeout !== undefined) {
    if (/^\d+$/.test(timeout) && Number(timeout) > 0) otlp.timeout = `${Number(timeout)}ms`;
    else otlpProblems.timeout = `its default from OTEL_EXPORTER_OTLP_TIMEOUT=${JSON.stringify(timeout)} must be a whole number of milliseconds above 0`;
  }

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

  return { otlp, otlpProblems, resource, resourceProblem, nomad: readNomadEnv(env) };
}
