// The sni receiver type: TLS ClientHellos (server name, ALPN, versions) and SYNs to chosen ports, from bpf/sni on TC.
// One factory, listed in src/components.ts; see README.md in this folder.
import type { ReceiverFactory } from '../factory';
import { sniConfig, type SniReceiverConfig } from './config';
import type { SniMetricsState } from './metrics';
import type { SniPipelineEvent } from './pipeline-event';

export const sni: ReceiverFactory<SniReceiverConfig, SniPipelineEvent, SniMetricsState> = {
  type: 'sni',
  config: sniConfig,
  // Each loads its module on first call (see ../factory.ts).
  create: (id, rc, ctx) => new (require('./receiver') as typeof import('./receiver')).SniReceiver(id, rc, ctx),
  metrics: (ctx, receivers, carry) => new (require('./metrics') as typeof import('./metrics')).SniMetrics(ctx.meter, { ...ctx, receivers, carry }),
  logs: (logger, receivers, log) => new (require('./logs') as typeof import('./logs')).SniLogs(logger, receivers, log),
};
