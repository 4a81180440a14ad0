// The connections receiver type: connections (connect, accept, TCP states, bytes, RTT, retransmits, failures) from bpf/conn.
// One factory, listed in src/components.ts; see README.md in this folder.
import type { ReceiverFactory } from '../factory';
import { connectionsConfig, type ConnectionsReceiverConfig } from './config';
import type { ConnMetricsState } from './metrics';
import type { ConnPipelineEvent } from './pipeline-event';

export const connections: ReceiverFactory<ConnectionsReceiverConfig, ConnPipelineEvent, ConnMetricsState> = {
  type: 'connections',
  config: connectionsConfig,
  sharesMaps: true, // its socket-local storage (sni) and socket-owner map (packet_fate)
  // Each loads its module on first call (see ../factory.ts).
  create: (id, rc, ctx) => new (require('./receiver') as typeof import('./receiver')).ConnectionsReceiver(id, rc, ctx),
  metrics: (ctx, receivers, carry) =>
    new (require('./metrics') as typeof import('./metrics')).ConnMetrics(ctx.meter, ctx.producer, { ...ctx, receivers, carry }),
  logs: (logger, receivers, log) => new (require('./logs') as typeof import('./logs')).ConnLogs(logger, receivers, log),
};
