// exporters.prometheus: a pull endpoint (/metrics) served by the agent.
import { isIP } from 'node:net';
import { defineComponent } from '../component';
import { formatProblem } from '../formats';
import { joinPath } from '../problems';
import type { PrometheusExporterConfig } from '../types';

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]*)):(\d{1,5})$/;

/** `host:port` or `[v6]:port` as the collector's `endpoint`; an empty host means every interface, as in Go. */
function parseEndpoint(e: string): { host: string; port: number } | string {
  const m = HOST_PORT.exec(e);
  if (!m) return `must be host:port such as 0.0.0.0:8889 (or [::1]:8889), got ${JSON.stringify(e)}`;
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!); // one of the two alternatives matched: without group 1, group 2
  if (m[1] !== undefined && isIP(m[1]) !== 6) return `${JSON.stringify(e)}: ${m[1]} in brackets must be an IPv6 address`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `${JSON.stringify(e)}: the port must be from 1 to 65535`;
  const bad = formatProblem('nw.host', host);
  return bad ? `${JSON.stringify(e)}: the host ${bad}` : { host, port };
}

export const prometheus = defineComponent<PrometheusExporterConfig, { endpoint: string; host: string; port: number }>({
  type: 'prometheus',
  summary: 'serves metrics for Prometheus to scrape at http://host:port/metrics (metrics pipelines only)',
  schema: () => ({
    schema: {
      endpoint: { doc: "host:port to listen on, the collector's way (e.g. 0.0.0.0:8889); instead of host and port.", format: 'nw.text', default: '' },
      // The collector listens on 0.0.0.0 by default; an agent on every node should not expose
      // its metrics to the network unless asked, so netwatch defaults to loopback.
      host: { doc: 'Address to listen on; 127.0.0.1 (loopback only) unless set, 0.0.0.0 for every interface.', format: 'nw.host', default: '127.0.0.1' },
      port: { doc: 'TCP port to listen on.', format: 'nw.port', default: 9464 },
    },
  }),
  build: (s, ctx) => {
    if (!ctx.provided.has('endpoint') || s.endpoint === '') return { type: 'prometheus', id: ctx.id, host: s.host, port: s.port };
    const path = joinPath(ctx.path, 'endpoint');
    if (ctx.provided.has('host') || ctx.provided.has('port')) {
      ctx.problems.push({ path, message: 'is given together with host or port; give either endpoint (host:port) or host and port' });
    }
    const r = parseEndpoint(s.endpoint);
    if (typeof r === 'string') {
      ctx.problems.push({ path, message: r });
      return { type: 'prometheus', id: ctx.id, host: s.host, port: s.port };
    }
    return { type: 'prometheus', id: ctx.id, ...r };
  },
});
