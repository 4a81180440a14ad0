// Endpoint checks for the OTLP exporters (gRPC target vs HTTP base URL).

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

function urlProblem(e: string): string | undefined {
  let u: URL;
  try {
    u = new URL(e);
  } catch {
    return 'is not a valid URL';
  }
  if (u.hostname === '') return 'has no host';
  if (u.search || u.hash) return 'must not have a query or fragment';
  return undefined;
}

/** gRPC: `host:port`, `[v6]:port`, or `http(s)://host[:port]` (http:// meaning plaintext). */
export function grpcEndpointProblem(e: string): string | undefined {
  const q = JSON.stringify(e);
  if (e === '') return 'is empty; give host:port such as collector:4317';
  if (/^https?:\/\//.test(e)) {
    const why = urlProblem(e);
    return why ? `${q} ${why}; give host:port such as collector:4317, or http(s)://host:port` : undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(e)) return `${q}: only http:// and https:// schemes are supported (or plain host:port)`;
  const m = HOST_PORT.exec(e);
  if (!m) return `must be host:port such as collector:4317 (or http(s)://host:port), got ${q}`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `${q}: the port must be from 1 to 65535`;
  return undefined;
}

/** HTTP: a base URL, `http://` or `https://`; `/v1/metrics` and `/v1/logs` are appended. */
export function httpEndpointProblem(e: string): string | undefined {
  const q = JSON.stringify(e);
  if (e === '') return 'is empty; give a URL such as http://collector:4318';
  if (!/^https?:\/\//.test(e)) return `must be an http:// or https:// URL such as http://collector:4318, got ${q}`;
  const why = urlProblem(e);
  return why ? `${q} ${why}` : undefined;
}

/** So that appending `/v1/metrics` never doubles the slash. */
export const trimTrailingSlashes = (e: string): string => e.replace(/\/+$/, '');
