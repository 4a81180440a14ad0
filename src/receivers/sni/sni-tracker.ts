// Captured segments in, SNI events out: reassembly + parsing + once-per-flow reporting, with the
// counters telemetry needs, and a cardinality limiter for using server names as attribute values.
import {
  HelloReassembler,
  SNI_REJECTIONS,
  type FlowKey,
  type ReassemblyOptions,
  type ReassemblyOutcome,
  type SniRejection,
  type TcpSegment,
} from './reassembly';

export interface SniEvent {
  flow: FlowKey;
  /** host_name from server_name, lower-case; absent when the hello carried none. With `ech`, the outer name. */
  sni?: string;
  /** The hello carried encrypted_client_hello: the real name is hidden. */
  ech: boolean;
  /** ALPN protocols offered, GREASE removed. */
  alpn: string[];
  /** Versions offered: supported_versions without GREASE, or [legacy_version] when the extension is absent
   *  (RFC 8446 §4.2.1: without it the client offers up to legacy_version). */
  versions: number[];
  /** An SSLv2-compatible ClientHello (RFC 5246 App. E.2). */
  sslv2: boolean;
  /** True when this is a flow's second hello naming a different server than its first (see dedupe.ts). */
  changedOnRetry: boolean;
  /** CLOCK_BOOTTIME ns of the segment that completed the hello. */
  timestampNs: number;
}

export interface SniStats {
  /** Segments pushed (non-empty). */
  segments: number;
  /** ClientHellos parsed successfully, retries included. */
  completed: number;
  /** Events emitted. */
  reported: number;
  /** Second hellos after a HelloRetryRequest recognised and not reported again. */
  retriesSuppressed: number;
  /** Second hellos naming a different server (reported again). */
  retriesChanged: number;
  /** Flows that ended without a hello, by reason. */
  rejected: Record<SniRejection, number>;
  /** Flows dropped from the table to make room, and of those the ones without a hello yet. */
  evictions: number;
  evictedIncomplete: number;
  /** Segments for flows already finished, and segments too far before a flow's start to place. */
  ignoredSegments: number;
  outOfWindow: number;
  /** Flows currently tracked (including finished ones kept to ignore their later segments). */
  flows: number;
}

export class SniTracker {
  private readonly reassembler: HelloReassembler;
  private readonly outcomes: ReassemblyOutcome[] = [];
  private segments = 0;
  private completed = 0;
  private reported = 0;
  private retriesSuppressed = 0;
  private retriesChanged = 0;
  private readonly rejected = Object.fromEntries(SNI_REJECTIONS.map((r) => [r, 0])) as Record<SniRejection, number>;
  /** Called for every flow given up on (the kernel side can then stop capturing it). */
  onRejected: ((flow: FlowKey, reason: SniRejection) => void) | undefined = undefined;

  constructor(options: Partial<ReassemblyOptions> = {}) {
    this.reassembler = new HelloReassembler(options);
  }

  /** One captured segment → the SNI events it completes (usually zero or one). Also expires idle flows. */
  push(segment: TcpSegment): SniEvent[] {
    if (segment.payload.length > 0) this.segments++;
    const outcomes = this.outcomes;
    outcomes.length = 0;
    this.reassembler.push(segment, outcomes);
    this.reassembler.expire(segment.timestampNs, outcomes);
    return this.collect(outcomes);
  }

  /** Drop flows idle at `nowNs` (call periodically when segments are rare); returns nothing reportable. */
  expire(nowNs: number): void {
    const outcomes = this.outcomes;
    outcomes.length = 0;
    this.reassembler.expire(nowNs, outcomes);
    this.collect(outcomes);
  }

  stats(): SniStats {
    const r = this.reassembler;
    return {
      segments: this.segments,
      completed: this.completed,
      reported: this.reported,
      retriesSuppressed: this.retriesSuppressed,
      retriesChanged: this.retriesChanged,
      rejected: { ...this.rejected },
      evictions: r.evictions,
      evictedIncomplete: r.evictedIncomplete,
      ignoredSegments: r.ignoredSegments,
      outOfWindow: r.outOfWindow,
      flows: r.size,
    };
  }

  private collect(outcomes: ReassemblyOutcome[]): SniEvent[] {
    const events: SniEvent[] = [];
    for (const o of outcomes) {
      switch (o.kind) {
        case 'rejected':
          this.rejected[o.reason]++;
          this.onRejected?.(o.flow, o.reason);
          break;
        case 'hello': {
          this.completed++;
          if (o.repeat === 'retry') {
            this.retriesSuppressed++;
            break;
          }
          if (o.repeat === 'changed') this.retriesChanged++;
          const h = o.hello;
          const ev: SniEvent = {
            flow: o.flow,
            ech: h.ech,
            alpn: h.alpn,
            versions: h.supportedVersions.length > 0 ? h.supportedVersions : [h.legacyVersion],
            sslv2: h.sslv2,
            changedOnRetry: o.repeat === 'changed',
            timestampNs: o.timestampNs,
          };
          if (h.serverName !== undefined) ev.sni = h.serverName;
          events.push(ev);
          this.reported++;
          break;
        }
        default: {
          const never: never = o;
          return never;
        }
      }
    }
    return events;
  }
}

// ---- cardinality ----------------------------------------------------------------------------

/** What names beyond the limit become: the conventions' overflow value, which no host name can be (`_` is not LDH). */
export const SNI_OTHER = '_OTHER';
/** Default number of distinct names kept as attribute values. */
export const DEFAULT_SNI_CARDINALITY = 1000;
/** Attribute values are cut to this length (RFC 1035 §2.3.4: a valid name never exceeds 253). */
export const MAX_SNI_ATTRIBUTE_LENGTH = 253;

/**
 * Bound the set of SNI values telemetry sees: the first `limit` distinct names pass (cut to
 * `maxLength`), later new names become `_OTHER`. `seen` holds the admitted names.
 */
export function boundSni(name: string, limit: number, seen: Set<string>, maxLength = MAX_SNI_ATTRIBUTE_LENGTH): string {
  const v = name.length > maxLength ? name.slice(0, maxLength) : name;
  if (seen.has(v)) return v;
  if (seen.size >= limit) return SNI_OTHER;
  seen.add(v);
  return v;
}

/** boundSni with its own admitted set. */
export class SniCardinalityLimiter {
  private readonly seen = new Set<string>();
  constructor(
    readonly limit: number = DEFAULT_SNI_CARDINALITY,
    readonly maxLength: number = MAX_SNI_ATTRIBUTE_LENGTH,
  ) {}

  bound(name: string): string {
    return boundSni(name, this.limit, this.seen, this.maxLength);
  }

  /** Distinct names admitted so far. */
  get size(): number {
    return this.seen.size;
  }
}
