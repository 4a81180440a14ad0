// receivers.sni: TLS ClientHellos (server name, ALPN, versions) to chosen ports on chosen interfaces.
import { defineComponent } from '../../config/component';
import type { ComponentId, EnableMap } from '../../config/types';
import { parseDuration } from '../../config/duration';
import { joinPath } from '../../config/problems';
import { checkEnableMap } from '../../config/schemas/enable-map';
import { SNI_MAX_CAPTURE_BYTES, SNI_MAX_PORTS } from './layout';

export interface SniReceiverConfig {
  type: 'sni';
  id: ComponentId;
  /** Interface names, or 'all': every Ethernet/loopback interface of the agent's network namespace. */
  interfaces: readonly string[] | 'all';
  /** With `all`: how often new interfaces are looked for (0 = only at start). */
  rescan_interval_ms: number;
  /** TCP server ports whose ClientHellos are captured; changeable at runtime (SIGHUP). */
  /** tcx (links owned by the agent), clsact (filters, swept at the next start) or auto. */
  attach_mode: 'auto' | 'tcx' | 'clsact';
  ports: readonly number[];
  ring_buffer_size: number;
  poll_interval_ms: number;
  /** Flows tracked at once, in the kernel and in the reassembler. */
  max_flows: number;
  /** Stream bytes captured per flow, from its first byte. */
  capture_bytes: number;
  /** Payload segments captured per flow. */
  capture_segments: number;
  /** A flow without a complete hello for this long is given up. */
  idle_timeout_ms: number;
  /** Bounds on server names as metric attribute values. */
  server_names: { readonly max_distinct: number; readonly max_length: number };
  include: { readonly process_pid: boolean };
  metrics: EnableMap;
  events: EnableMap;
  logs: { readonly sampling_ratio: number; readonly max_per_second: number };
}

interface Settings {
  interfaces: string[] | 'all';
  rescan_interval: string;
  attach_mode: 'auto' | 'tcx' | 'clsact';
  ports: number[];
  ring_buffer_size: number;
  poll_interval: string;
  max_flows: number;
  capture_bytes: number;
  capture_segments: number;
  idle_timeout: string;
  server_names: { max_distinct: number; max_length: number };
  include: { process_pid: boolean };
  metrics: Record<string, unknown>;
  events: Record<string, unknown>;
  logs: { sampling_ratio: number; max_per_second: number };
}

/** The smallest capture that still holds a typical ClientHello (one with a post-quantum key share is ~1.8 KiB). */
const MIN_CAPTURE_BYTES = 512;
/** A DNS name is at most 253 characters (RFC 1035 §2.3.4). */
const MAX_NAME_LENGTH = 253;

export const sniConfig = defineComponent<SniReceiverConfig, Settings>({
  type: 'sni',
  summary: 'TLS ClientHellos to chosen ports on chosen interfaces (TC): server name (SNI), ALPN, versions; TCP SYNs to those ports',
  schema: () => ({
    schema: {
      interfaces: {
        doc: "Interfaces to watch, e.g. [eth0, lo], or all: every Ethernet or loopback interface of the agent's network namespace.",
        format: 'nw.interfaces',
        default: 'all',
      },
      rescan_interval: {
        doc: "With interfaces: all, how often interfaces that appeared later (new containers' veths) are looked for; 0s looks only at start.",
        format: 'nw.duration-or-zero',
        default: '5s',
      },
      attach_mode: {
        doc: "How the TC programs are attached: tcx (BPF links, Linux 6.6+: the kernel removes them when the agent exits, even when killed), clsact (tc filters, for older kernels: a killed agent's filters are removed at its next start), or auto (tcx where the kernel has it).",
        format: 'nw.tc-attach-mode',
        default: 'auto',
      },
      ports: {
        doc: `TCP server ports whose ClientHellos are captured (at most ${SNI_MAX_PORTS}); a reload that changes only these applies in place.`,
        format: 'nw.port-list',
        default: [443],
      },
      ring_buffer_size: {
        doc: 'Size in bytes of the BPF ring buffer the kernel writes captured segments into: a power of two, at least one page (4096).',
        format: 'nw.ring-buffer-size',
        default: 4_194_304,
      },
      poll_interval: { doc: 'How often the reader drains the ring even without a wakeup (a duration such as 10ms).', format: 'nw.duration', default: '10ms' },
      max_flows: {
        doc: 'Connections whose ClientHello is awaited at once, in the kernel and in the reassembler; the least recently used is dropped beyond it.',
        format: 'nw.count',
        default: 16384,
      },
      capture_bytes: {
        doc: `Bytes captured per connection from its first payload byte (${MIN_CAPTURE_BYTES} to ${SNI_MAX_CAPTURE_BYTES}); a ClientHello needing more is counted as byte_budget.`,
        format: 'nw.count',
        default: SNI_MAX_CAPTURE_BYTES,
      },
      capture_segments: { doc: 'Payload segments captured per connection before it is given up (segment_budget).', format: 'nw.count', default: 32 },
      idle_timeout: {
        doc: 'A connection whose ClientHello is still incomplete after this long without new bytes is given up (idle_timeout).',
        format: 'nw.duration',
        default: '10s',
      },
      server_names: {
        max_distinct: {
          doc: 'Distinct server names kept as server.address values of the ClientHello counter; later new names are counted as "_OTHER".',
          format: 'nw.count',
          default: 1000,
        },
        max_length: {
          doc: `Server names are cut to this many characters in metric attributes (at most ${MAX_NAME_LENGTH}).`,
          format: 'nw.count',
          default: MAX_NAME_LENGTH,
        },
      },
      include: {
        process_pid: { doc: 'Add process.pid to metrics (high cardinality).', format: 'nw.bool', default: false },
      },
      metrics: { doc: 'Per-metric switches: <metric name>: {enabled: true|false}.', format: Object, default: {} },
      events: { doc: 'Per-log-event switches: <event name>: {enabled: true|false}.', format: Object, default: {} },
      logs: {
        sampling_ratio: { doc: 'Fraction of ClientHello log records kept, greater than 0 and at most 1.', format: 'nw.ratio', default: 1 },
        max_per_second: { doc: 'Cap on ClientHello log records per second; 0 means no cap.', format: 'nw.count-or-zero', default: 1000 },
      },
    },
  }),
  build: (s, ctx) => {
    const problem = (key: string, message: string): void => {
      if (!ctx.invalid.has(key)) ctx.problems.push({ path: joinPath(ctx.path, key), message });
    };
    if (s.ports.length === 0) problem('ports', 'must list at least one port, e.g. [443]');
    if (s.ports.length > SNI_MAX_PORTS) problem('ports', `lists ${s.ports.length} ports; at most ${SNI_MAX_PORTS} can be watched`);
    if (s.capture_bytes < MIN_CAPTURE_BYTES || s.capture_bytes > SNI_MAX_CAPTURE_BYTES) {
      problem('capture_bytes', `must be from ${MIN_CAPTURE_BYTES} to ${SNI_MAX_CAPTURE_BYTES} bytes, got ${s.capture_bytes}`);
    }
    if (s.capture_segments > 0xffff) problem('capture_segments', `must be at most 65535, got ${s.capture_segments}`);
    if (s.server_names.max_length > MAX_NAME_LENGTH)
      problem('server_names.max_length', `must be at most ${MAX_NAME_LENGTH} (the longest DNS name), got ${s.server_names.max_length}`);
    return {
      type: 'sni',
      id: ctx.id,
      interfaces: s.interfaces === 'all' ? 'all' : [...s.interfaces],
      rescan_interval_ms: parseDuration(s.rescan_interval) ?? 0,
      attach_mode: s.attach_mode,
      ports: [...new Set(s.ports)],
      ring_buffer_size: s.ring_buffer_size,
      poll_interval_ms: parseDuration(s.poll_interval)!,
      max_flows: s.max_flows,
      capture_bytes: s.capture_bytes,
      capture_segments: s.capture_segments,
      idle_timeout_ms: parseDuration(s.idle_timeout)!,
      server_names: { ...s.server_names },
      include: { ...s.include },
      metrics: checkEnableMap('metrics', s.metrics, joinPath(ctx.path, 'metrics'), ctx.problems, 'sni'),
      events: checkEnableMap('events', s.events, joinPath(ctx.path, 'events'), ctx.problems, 'sni'),
      logs: { ...s.logs },
    };
  },
});
