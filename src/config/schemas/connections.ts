// receivers.connections: the conn probe (connect/accept/state/close of TCP and UDP sockets).
import { defineComponent } from '../component';
import type { ConnectionsReceiverConfig } from '../types';
import { parseDuration } from '../duration';
import { joinPath } from '../problems';
import { checkEnableMap } from './enable-map';

interface Settings {
  ring_buffer_size: number;
  poll_interval: string;
  seed_existing: boolean;
  include: { process_pid: boolean; peer_address: boolean; client_port: boolean };
  metrics: Record<string, unknown>;
  events: Record<string, unknown>;
  logs: { sampling_ratio: number; max_per_second: number };
}

export const connections = defineComponent<ConnectionsReceiverConfig, Settings>({
  type: 'connections',
  summary: 'TCP/UDP connections from the kernel: connects, accepts, state changes, bytes/RTT/retransmits at close',
  schema: () => ({
    schema: {
      ring_buffer_size: {
        doc: 'Size in bytes of the BPF ring buffer the kernel writes events into: a power of two, at least one page (4096).',
        format: 'nw.ring-buffer-size',
        default: 4_194_304,
      },
      poll_interval: { doc: 'How often the reader drains the ring even without a wakeup (a duration such as 10ms).', format: 'nw.duration', default: '10ms' },
      seed_existing: { doc: 'At start, report connections that already exist (read from /proc/<pid>/net/*).', format: 'nw.bool', default: true },
      include: {
        process_pid: { doc: 'Add process.pid to metrics (high cardinality).', format: 'nw.bool', default: false },
        peer_address: { doc: 'Add network.peer.address to metrics (high cardinality).', format: 'nw.bool', default: false },
        client_port: { doc: 'Add the client (ephemeral) port to metrics (very high cardinality).', format: 'nw.bool', default: false },
      },
      metrics: { doc: 'Per-metric switches: <metric name>: {enabled: true|false}.', format: Object, default: {} },
      events: { doc: 'Per-log-event switches: <event name>: {enabled: true|false}.', format: Object, default: {} },
      logs: {
        sampling_ratio: { doc: 'Fraction of connection log records kept, greater than 0 and at most 1.', format: 'nw.ratio', default: 1 },
        max_per_second: { doc: 'Cap on connection log records per second; 0 means no cap.', format: 'nw.count-or-zero', default: 1000 },
      },
    },
  }),
  build: (s, ctx) => ({
    type: 'connections',
    id: ctx.id,
    ring_buffer_size: s.ring_buffer_size,
    poll_interval_ms: parseDuration(s.poll_interval)!,
    seed_existing: s.seed_existing,
    include: { ...s.include },
    metrics: checkEnableMap('metrics', s.metrics, joinPath(ctx.path, 'metrics'), ctx.problems),
    events: checkEnableMap('events', s.events, joinPath(ctx.path, 'events'), ctx.problems),
    logs: { ...s.logs },
  }),
});
