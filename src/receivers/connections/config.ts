// receivers.connections: the conn probe (connect/accept/state/close of TCP and UDP sockets).
import { defineComponent } from '../../config/component';
import type { ComponentId, EnableMap } from '../../config/types';
import { parseDuration } from '../../config/duration';
import { joinPath, type Problem } from '../../config/problems';
import { checkEnableMap } from '../../config/schemas/enable-map';
import { METRIC, METRICS } from '../../catalogue/generated';

/** netwatch.connection.rtt's default boundaries (the catalogue's, in seconds) in microseconds. */
export const DEFAULT_RTT_BUCKETS_US: readonly number[] = (METRICS[METRIC.CONNECTION_RTT].buckets ?? []).map((s) => Math.round(s * 1e6));

export interface ConnectionsReceiverConfig {
  type: 'connections';
  id: ComponentId;
  /** Ring buffer size in bytes (power of two, multiple of the page size). */
  ring_buffer_size: number;
  /** How often the reader drains the ring even without a wakeup. */
  poll_interval_ms: number;
  /** Wake the reader once this many bytes wait (0 = whenever it has caught up). */
  wakeup_bytes: number;
  /** Seed connections that exist when the agent starts from /proc/<pid>/net/{tcp,tcp6,udp,udp6}. */
  seed_existing: boolean;
  /** High-cardinality attributes are opt-in. */
  include: { readonly process_pid: boolean; readonly peer_address: boolean; readonly client_port: boolean };
  metrics: EnableMap;
  events: EnableMap;
  /** Log-record sampling (0..1] and a per-second cap; 0 = no cap. */
  logs: { readonly sampling_ratio: number; readonly max_per_second: number };
  /** Boundaries of netwatch.connection.rtt in microseconds (explicit-bucket histograms). */
  rtt_buckets_us: readonly number[];
}

/** The RTT histogram's boundaries in seconds, as the metric's unit is. */
export const rttBucketsSeconds = (rc: Pick<ConnectionsReceiverConfig, 'rtt_buckets_us'>): number[] => rc.rtt_buckets_us.map((us) => us / 1e6);

interface Settings {
  ring_buffer_size: number;
  poll_interval: string;
  wakeup_bytes: number;
  seed_existing: boolean;
  include: { process_pid: boolean; peer_address: boolean; client_port: boolean };
  metrics: Record<string, unknown>;
  events: Record<string, unknown>;
  logs: { sampling_ratio: number; max_per_second: number };
  rtt_buckets_us: number[];
}

/** A threshold the ring can never reach would leave every event to the poll timer. */
function checkWakeupBytes(s: Settings, path: string, problems: Problem[]): number {
  if (s.wakeup_bytes >= s.ring_buffer_size) {
    problems.push({ path, message: `must be smaller than ring_buffer_size (${s.ring_buffer_size}), got ${s.wakeup_bytes}` });
  }
  return s.wakeup_bytes;
}

export const connectionsConfig = defineComponent<ConnectionsReceiverConfig, Settings>({
  type: 'connections',
  summary: 'TCP/UDP connections from the kernel: connects, accepts, state changes, bytes/RTT/retransmits at close',
  // The receivers of one metrics pipeline feed one netwatch.connection.rtt histogram.
  samePerPipeline: ['rtt_buckets_us'],
  schema: () => ({
    schema: {
      ring_buffer_size: {
        doc: 'Size in bytes of the BPF ring buffer the kernel writes events into: a power of two, at least one page (4096).',
        format: 'nw.ring-buffer-size',
        default: 4_194_304,
      },
      poll_interval: { doc: 'How often the reader drains the ring even without a wakeup (a duration such as 10ms).', format: 'nw.duration', default: '10ms' },
      wakeup_bytes: {
        doc:
          'Wake the reader only once this many bytes of events wait in the ring, else let the poll_interval timer drain it; ' +
          '0 wakes it whenever it has caught up. On a busy host a threshold (say a quarter of ring_buffer_size) saves a wakeup per event, ' +
          'in the traced processes and in the agent (under a connection storm it is what keeps the agent from losing events); but events ' +
          'then reach the agent up to poll_interval later, and a short-lived process may have exited by then: its executable name falls ' +
          'back to the kernel comm and its command line is unknown. Must be smaller than ring_buffer_size.',
        format: 'nw.count-or-zero',
        default: 0,
      },
      seed_existing: { doc: 'At start, report connections that already exist (read from /proc/<pid>/net/*).', format: 'nw.bool', default: true },
      include: {
        process_pid: { doc: 'Add process.pid to metrics (high cardinality).', format: 'nw.bool', default: false },
        peer_address: { doc: 'Add network.peer.address to metrics (high cardinality).', format: 'nw.bool', default: false },
        client_port: { doc: 'Add the client (ephemeral) port to metrics (very high cardinality).', format: 'nw.bool', default: false },
      },
      metrics: { doc: 'Per-metric switches: <metric name>: {enabled: true|false}.', format: Object, default: {} },
      events: { doc: 'Per-log-event switches: <event name>: {enabled: true|false}.', format: Object, default: {} },
      rtt_buckets_us: {
        doc:
          'Bucket boundaries of the netwatch.connection.rtt histogram, in microseconds, increasing (up to 64, each at most 60000000). ' +
          'The default starts at 10 µs, where loopback and same-host RTTs are. Receivers feeding the same metrics pipeline must give the same list. ' +
          'Exporters asking for base-2 exponential histograms ignore it.',
        format: 'nw.bucket-list-us',
        default: [...DEFAULT_RTT_BUCKETS_US],
      },
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
    wakeup_bytes: checkWakeupBytes(s, joinPath(ctx.path, 'wakeup_bytes'), ctx.problems),
    seed_existing: s.seed_existing,
    include: { ...s.include },
    metrics: checkEnableMap('metrics', s.metrics, joinPath(ctx.path, 'metrics'), ctx.problems),
    events: checkEnableMap('events', s.events, joinPath(ctx.path, 'events'), ctx.problems),
    logs: { ...s.logs },
    rtt_buckets_us: [...s.rtt_buckets_us],
  }),
});
