// The packet_fate receiver type: packet drops, resets and retransmits with the kernel's reason, from bpf/packet_fate.
// One factory, listed in src/components.ts; see README.md in this folder.
import type { ReceiverFactory } from '../factory';
import { packetFateConfig, type PacketFateReceiverConfig } from './config';
import type { PacketFateMetricsState } from './metrics';
import type { PacketFatePipelineEvent } from './pipeline-event';

export const packetFate: ReceiverFactory<PacketFateReceiverConfig, PacketFatePipelineEvent, PacketFateMetricsState> = {
  type: 'packet_fate',
  config: packetFateConfig,
  readsSocketOwners: true,
  // Each loads its module on first call (see ../factory.ts).
  create: (id, rc, ctx) => new (require('./receiver') as typeof import('./receiver')).PacketFateReceiver(id, rc, ctx),
  metrics: (ctx, receivers, carry) => new (require('./metrics') as typeof import('./metrics')).PacketFateMetrics(ctx.meter, { ...ctx, receivers, carry }),
  logs: (logger, receivers) => new (require('./logs') as typeof import('./logs')).PacketFateLogs(logger, receivers),
};
