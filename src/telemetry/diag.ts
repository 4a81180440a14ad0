// The OTel SDK's own diagnostics go to our logger: warnings once each, export failures not at all
// (the exporter wrappers in export-health.ts report those once per outage).
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import type { Logger } from '../log';
import type { ServiceConfig } from '../config/types';

type SdkLogLevel = ServiceConfig['telemetry']['sdk_log_level'];

const MAX_REMEMBERED = 256;
// Messages the SDK emits for every failed export; our wrappers already said it once.
const EXPORT_NOISE = /export (failed|timed out|threw)|exporter|UNAVAILABLE|ECONNREFUSED/i;

const MAX_LINE = 300;

/** One bounded line with every secret (exporter header values) scrubbed. */
function text(message: string, args: unknown[], secrets: readonly string[]): string {
  const rest = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a))));
  let line = [message, ...rest].join(' ').replace(/\s+/g, ' ');
  for (const s of secrets) if (s.length > 0) line = line.split(s).join('***');
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}...` : line;
}

const LEVELS: Readonly<Record<SdkLogLevel, DiagLogLevel>> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** `level` (OTEL_LOG_LEVEL, default warn): the SDK's own messages at or above it reach our logger. */
export function routeDiagnostics(log: Logger, secrets: readonly string[] = [], level: SdkLogLevel = 'warn'): void {
  const seen = new Set<string>();
  const report = (message: string, args: unknown[]): void => {
    const line = text(message, args, secrets);
    if (EXPORT_NOISE.test(line) || seen.has(line)) return log.debug(`opentelemetry: ${line}`);
    if (seen.size < MAX_REMEMBERED) seen.add(line);
    log.warn(`opentelemetry: ${line}`);
  };
  const adapter: DiagLogger = {
    error: (m, ...a) => report(m, a),
    warn: (m, ...a) => report(m, a),
    info: (m, ...a) => log.info(`opentelemetry: ${text(m, a, secrets)}`),
    debug: (m, ...a) => log.debug(`opentelemetry: ${text(m, a, secrets)}`),
    verbose: (m, ...a) => log.debug(`opentelemetry: ${text(m, a, secrets)}`),
  };
  diag.setLogger(adapter, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  // The SDK hands failed exports to the global error handler on every interval. (Packages with their
  // own nested copy of @opentelemetry/core keep its default handler, which logs through diag above.)
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- not an Error: whatever the SDK threw, String() is all there is to show
  setGlobalErrorHandler((ex) => log.debug(`opentelemetry: ${text(ex instanceof Error ? ex.message : String(ex), [], secrets)}`));
}
