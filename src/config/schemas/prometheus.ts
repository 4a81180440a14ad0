// exporters.prometheus: a pull endpoint (/metrics) served by the agent.
import { defineComponent } from '../component';
import type { PrometheusExporterConfig } from '../types';

export const prometheus = defineComponent<PrometheusExporterConfig, { host: string; port: number }>({
  type: 'prometheus',
  summary: 'serves metrics for Prometheus to scrape at http://host:port/metrics (metrics pipelines only)',
  schema: () => ({
    schema: {
      // The collector listens on 0.0.0.0 by default; an agent on every node should not expose
      // its metrics to the network unless asked, so netwatch defaults to loopback.
      host: { doc: 'Address to listen on; 127.0.0.1 (loopback only) unless set, 0.0.0.0 for every interface.', format: 'nw.host', default: '127.0.0.1' },
      port: { doc: 'TCP port to listen on.', format: 'nw.port', default: 9464 },
    },
    hints: { endpoint: 'netwatch takes host and port separately instead of endpoint, e.g. host: 0.0.0.0 and port: 8889' },
  }),
  build: (s, ctx) => ({ type: 'prometheus', id: ctx.id, host: s.host, port: s.port }),
});
