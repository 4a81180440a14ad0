// receivers.packet_fate: why the kernel drops packets, and where TCP resets and retransmits happen.
import { defineComponent } from '../../config/component';
import type { ComponentId, EnableMap } from '../../config/types';
import { parseDuration } from '../../config/duration';
import { joinPath } from '../../config/problems';
import { checkEnableMap } from '../../config/schemas/enable-map';

export interface PacketFateReceiverConfig {
  type: 'packet_fate';
  id: ComponentId;
  /** Ring buffer for the sampled records, in bytes (power of two, multiple of the page size). */
  ring_buffer_size: number;
  /** How often the reader drains the ring even without a wakeup. */
  poll_interval_ms: number;
  /** How often the kernel's per-interval tables are read (and the sampling budget renews). */
  interval_ms: number;
  /** Records per kind (drop, reset sent, reset received, retransmit) and interval sent one by one. */
  sample_per_interval: number;
  /** Distinct keys one interval's table holds before the rest is counted by reason only. */
  table_size: number;
  /** Drop reasons (enum skb_drop_reason names without SKB_DROP_REASON_) neither counted nor sampled. */
  ignore_reasons: readonly string[];
  include: { readonly process_pid: boolean };
  metrics: EnableMap;
  events: EnableMap;
}

interface Settings {
  ring_buffer_size: number;
  poll_interval: string;
  interval: string;
  sample_per_interval: number;
  table_size: number;
  ignore_reasons: string[];
  include: { process_pid: boolean };
  metrics: Record<string, unknown>;
  events: Record<string, unknown>;
}

export const packetFateConfig = defineComponent<PacketFateReceiverConfig, Settings>({
  type: 'packet_fate',
  summary:
    "Packet drops with the kernel's drop reason, TCP resets sent and received, TCP retransmits; counted in the kernel, the first few of each interval also as log records",
  schema: () => ({
    schema: {
      ring_buffer_size: {
        doc: 'Size in bytes of the BPF ring buffer the sampled records go through: a power of two, at least one page (4096).',
        format: 'nw.ring-buffer-size',
        default: 262_144,
      },
      poll_interval: { doc: 'How often the reader drains the ring even without a wakeup (a duration such as 100ms).', format: 'nw.duration', default: '100ms' },
      interval: {
        doc: "How often the kernel's counts are read into metrics; the sampling budget (sample_per_interval) renews each interval.",
        format: 'nw.duration',
        default: '10s',
      },
      sample_per_interval: {
        doc: 'Events of each kind (drop, reset sent, reset received, retransmit) per interval sent one by one, with their addresses, as log records; the rest are only counted. 0 sends none.',
        format: 'nw.count-or-zero',
        default: 100,
      },
      table_size: {
        doc: 'Distinct combinations of kind, reason, protocol, namespace, interface and owner counted per interval; beyond it, events are still counted, by kind and reason only.',
        format: 'nw.table-size',
        default: 16_384,
      },
      ignore_reasons: {
        doc: 'Drop reasons neither counted nor sampled, as the kernel names them without SKB_DROP_REASON_ (e.g. NOT_SPECIFIED); checked against the running kernel at start.',
        format: 'nw.drop-reason-list',
        default: ['NOT_SPECIFIED'],
      },
      include: {
        process_pid: { doc: 'Add process.pid to metrics (high cardinality).', format: 'nw.bool', default: false },
      },
      metrics: {
        doc: 'Per-metric switches: <metric name>: {enabled: true|false}. A kind whose metric and log event are both off is not hooked at all.',
        format: Object,
        default: {},
      },
      events: { doc: 'Per-log-event switches: <event name>: {enabled: true|false}.', format: Object, default: {} },
    },
    hints: {
      seed_existing: 'seed_existing is a setting of the connections receiver',
      logs: 'packet_fate log records are limited in the kernel by sample_per_interval',
    },
  }),
  build: (s, ctx) => ({
    type: 'packet_fate',
    id: ctx.id,
    ring_buffer_size: s.ring_buffer_size,
    poll_interval_ms: parseDuration(s.poll_interval)!,
    interval_ms: parseDuration(s.interval)!,
    sample_per_interval: s.sample_per_interval,
    table_size: s.table_size,
    ignore_reasons: [...s.ignore_reasons],
    include: { ...s.include },
    metrics: checkEnableMap('metrics', s.metrics, joinPath(ctx.path, 'metrics'), ctx.problems, 'packet_fate'),
    events: checkEnableMap('events', s.events, joinPath(ctx.path, 'events'), ctx.problems, 'packet_fate'),
  }),
});
