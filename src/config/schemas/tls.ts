// The `tls:` block shared by otlp and otlphttp (collector's configtls.ClientConfig, the parts netwatch uses).
import type convict from 'convict';
import type { BuildContext } from '../component';
import type { OtlpEnvDefaults } from '../otel-env';
import { joinPath } from '../problems';
import type { TlsSettings } from '../types';

export interface TlsRaw {
  insecure: boolean | null;
  insecure_skip_verify: boolean;
  ca_file: string;
  cert_file: string;
  key_file: string;
  server_name_override: string;
}

export function tlsSchema(env: OtlpEnvDefaults, mode: 'grpc' | 'http'): convict.Schema<TlsRaw> {
  return {
    insecure: {
      doc:
        mode === 'grpc'
          ? 'Plaintext gRPC (no TLS). Default: true for an http:// endpoint, false for https://, else OTEL_EXPORTER_OTLP_{METRICS,LOGS}_INSECURE, else OTEL_EXPORTER_OTLP_INSECURE, else false.'
          : 'Follows the endpoint: http:// is plaintext, https:// is TLS. Setting it is allowed only when it agrees.',
      format: 'nw.optional-bool',
      default: null,
    },
    insecure_skip_verify: { doc: 'Use TLS but accept any server certificate, self-signed included (testing only).', format: 'nw.bool', default: false },
    ca_file: {
      doc: 'PEM file of CA certificates to verify the server; empty = system roots. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_CERTIFICATE, else OTEL_EXPORTER_OTLP_CERTIFICATE.',
      format: 'nw.text',
      default: env.certificate ?? '',
    },
    cert_file: {
      doc: 'PEM client certificate for mutual TLS. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_CLIENT_CERTIFICATE, else OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE.',
      format: 'nw.text',
      default: env.clientCertificate ?? '',
    },
    key_file: {
      doc: 'PEM private key of cert_file. Default: OTEL_EXPORTER_OTLP_{METRICS,LOGS}_CLIENT_KEY, else OTEL_EXPORTER_OTLP_CLIENT_KEY.',
      format: 'nw.text',
      default: env.clientKey ?? '',
    },
    server_name_override: {
      doc: 'Server name to verify instead of the endpoint host: sent as SNI and, over gRPC, as :authority.',
      format: 'nw.text',
      default: '',
    },
  };
}

export function tlsOrigins(env: OtlpEnvDefaults): Record<string, string> {
  const o: Record<string, string> = {};
  if (env.certificate) o['tls.ca_file'] = 'OTEL_EXPORTER_OTLP_CERTIFICATE';
  if (env.clientCertificate) o['tls.cert_file'] = 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE';
  if (env.clientKey) o['tls.key_file'] = 'OTEL_EXPORTER_OTLP_CLIENT_KEY';
  return o;
}

/** `insecureDefault`: OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE, for a gRPC endpoint without a scheme. Problems are added once. */
export function resolveTls(raw: TlsRaw, endpoint: string, mode: 'grpc' | 'http', insecureDefault: boolean, ctx: BuildContext): TlsSettings {
  const problems: BuildContext['problems'] = [];
  const scheme = endpoint.startsWith('http://') ? 'http' : endpoint.startsWith('https://') ? 'https' : undefined;
  const tlsPath = joinPath(ctx.path, 'tls');
  let insecure: boolean;
  if (mode === 'http') insecure = scheme === 'http';
  else insecure = raw.insecure ?? (scheme !== undefined ? scheme === 'http' : insecureDefault);

  if (raw.insecure !== null && scheme !== undefined && raw.insecure !== (scheme === 'http') && !ctx.invalid.has('endpoint')) {
    problems.push({
      path: joinPath(tlsPath, 'insecure'),
      message: `is ${raw.insecure}, but the endpoint ${JSON.stringify(endpoint)} asks for ${scheme === 'http' ? 'plaintext' : 'TLS'}; ${
        mode === 'http'
          ? 'for otlphttp the scheme decides (http:// plaintext, https:// TLS), so remove tls.insecure'
          : `change the endpoint to ${raw.insecure ? 'http://' : 'https://'} or remove tls.insecure`
      }`,
    });
  }
  if ((raw.cert_file === '') !== (raw.key_file === '') && !ctx.invalid.has('tls.cert_file') && !ctx.invalid.has('tls.key_file')) {
    const missing = raw.cert_file === '' ? 'cert_file' : 'key_file';
    const given = missing === 'cert_file' ? 'key_file' : 'cert_file';
    problems.push({ path: joinPath(tlsPath, missing), message: `is required when tls.${given} is set (a client certificate needs its key)` });
  }
  for (const p of problems) if (!ctx.problems.some((q) => q.path === p.path && q.message === p.message)) ctx.problems.push(p);
  return {
    insecure,
    insecure_skip_verify: raw.insecure_skip_verify,
    ca_file: raw.ca_file,
    cert_file: raw.cert_file,
    key_file: raw.key_file,
    server_name_override: raw.server_name_override,
  };
}
