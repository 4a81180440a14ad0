// A copy of the config safe to print: header values, credentials in URLs and any setting whose
// name mentions a token, password, secret or http_auth become "<redacted>".
import { deepFreeze } from './freeze';
import type { AgentConfig } from './types';

export const REDACTED = '<redacted>';
const SECRET_NAME = /token|password|passwd|secret|api[-_]?key|authorization|credential|http_auth/i;

function redactUrl(v: string): string {
  // user:password@ in an endpoint URL.
  return v.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_, scheme: string) => `${scheme}${REDACTED}@`);
}

/** `inHeaders`: `value` is an entry of a `headers` map. */
function redact(value: unknown, key: string, inHeaders: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, key, false));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k, key === 'headers');
    return out;
  }
  if (inHeaders || (SECRET_NAME.test(key) && value !== '' && value !== null && value !== undefined)) return REDACTED;
  if (typeof value === 'string' && key === 'endpoint') return redactUrl(value);
  return value;
}

/** The input is not changed; the result is frozen like the input. */
export function redactConfig(cfg: AgentConfig): AgentConfig {
  return deepFreeze(redact(cfg, '', false) as AgentConfig);
}
