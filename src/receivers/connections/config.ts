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
  /** How often the kernel's counters are read into metrics. */
  interval_ms: number;
  /** Distinct attribute sets the kernel counts per interval before it counts the rest without attributes. */
  table_size: number;
  /** Report the agent's own connections (its exporters, its Nomad client, its API server). */
  include_self: boolean;
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
  wakeup_bytes: number | 'auto';
  interval: string;
  table_size: number;
  include_self: boolean;
  seed_existing: boolean;
  include: { process_pid: boolean; peer_address: boolean; client_port: boolean };
  metrics: Record<string, unknown>;
  events: Record<string, unknown>;
  logs: { sampling_ratio: number; max_per_second: number };
  rtt_buckets_us: number[];
}

/** A quarter of the ring: few wakeups under load, room left while the reader drains. */
const AUTO_WAKEUP_FRACTION = 4;

/** A threshold the ring can never reach would leave every event to the poll timer. */
function checkWakeupBytes(s: Settings, path: string, problems: Problem[]): number {
  if (s.wakeup_bytes === 'auto') return Math.floor(s.ring_buffer_size / AUTO_WAKEUP_FRACTION);
  if (s.wakeup_bytes >= s.ring_buffer_size) {
    problems.push({ path, message: `must be smaller than ring_buffer_size (${s.ring_buffer_size}), got ${s.wakeup_bytes}` });
  }
  return s.wakeup_bytes;
}

export const connectionsConfig = defineComponent<ConnectionsReceiverConfig, Settings>({
  type: 'connections',
  summary: 'TCP/UDP connections from the kernel: connects, accepts, state changes, bytes/RTT/retransmits, counted in the kernel',
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
          'Wake the reader only once this many bytes of records wait in the ring, else let the poll_interval timer drain it (so ' +
          'poll_interval bounds how late a record arrives). auto is a quarter of ring_buffer_size; 0 wakes the reader whenever it has ' +
          'caught up, which costs the traced processes a wakeup per record on a busy host. Identities are captured in the kernel when ' +
          'things happen, so a late record still names its process and container. Must be smaller than ring_buffer_size.',
        format: 'nw.wakeup-bytes',
        default: 'auto',
      },
      interval: {
        doc: "How often the kernel's counters are read into metrics (open connections and bytes of connections still open included).",
        format: 'nw.duration',
        default: '10s',
      },
      table_size: {
        doc: 'Distinct attribute sets (owner, direction, port, ...) the kernel counts per interval; beyond it, the rest is counted without attributes (otel.metric.overflow).',
        format: 'nw.table-size',
        default: 8192,
      },
      include_self: {
        doc: "Report the agent's own connections (its exporters, its Nomad client, its API server), found by the agent's pid.",
        format: 'nw.bool',
        default: false,
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
          'Bucket boundaries of the netwatch.connection.rtt histogram, in microseconds, increasing (up to 23, the buckets the kernel counts into; each at most 60000000). ' +
          'The default starts at 10 µs, where loopback and same-host RTTs are. Receivers feeding the same metrics pipeline must give the same list. ' +
          'The kernel counts into these buckets, so an exporter asking for base-2 exponential histograms gets them at the finest scale where each of these buckets fits in one exponential bucket: ' +
          'bounds at the whole µs just below powers of two of a second (1, 3, 7, 15, 30, 61, ... 1000000, 2000000, 4000000) give scale 0; the default bounds give a coarse scale.',
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
    interval_ms: parseDuration(s.interval)!,
    table_size: s.table_size,
    include_self: s.include_self,
    seed_existing: s.seed_existing,
    include: { ...s.include },
    metrics: checkEnableMap('metrics', s.metrics, joinPath(ctx.path, 'metrics'), ctx.problems),
    events: checkEnableMap('events', s.events, joinPath(ctx.path, 'events'), ctx.problems),
    logs: { ...s.logs },
    rtt_buckets_us: [...s.rtt_buckets_us],
  }),
});
