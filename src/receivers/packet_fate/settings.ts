// Which kinds the packet_fate probe hooks and which it samples, from the receiver's metric and
// event switches: a kind nobody asked for costs nothing, not even an attached program.
import type { PacketFateReceiverConfig } from './config';
import { EVENT, EVENTS, METRIC, METRICS, type EventName, type MetricName } from '../../catalogue/generated';
import type { FateKind } from './event';

/** The metric and the log event each kind feeds. */
export const FATE_TELEMETRY: Readonly<Record<FateKind, { metric: MetricName; event: EventName }>> = {
  drop: { metric: METRIC.PACKET_DROPS, event: EVENT.PACKET_DROP },
  reset_sent: { metric: METRIC.TCP_RESETS, event: EVENT.TCP_RESET },
  reset_received: { metric: METRIC.TCP_RESETS, event: EVENT.TCP_RESET },
  retransmit: { metric: METRIC.TCP_RETRANSMITS, event: EVENT.TCP_RETRANSMIT },
};

export const ALL_FATE_KINDS: readonly FateKind[] = ['drop', 'reset_sent', 'reset_received', 'retransmit'];

export function fateMetricEnabled(rc: PacketFateReceiverConfig, name: MetricName): boolean {
  return rc.metrics[name]?.enabled ?? METRICS[name].enabled;
}

export function fateEventEnabled(rc: PacketFateReceiverConfig, name: EventName): boolean {
  return rc.events[name]?.enabled ?? EVENTS[name].enabled;
}

/** Kinds to hook (their metric or event is on) and kinds to sample (their event is on, and N > 0). */
export function fateKinds(rc: PacketFateReceiverConfig): { kinds: Set<FateKind>; sampled: Set<FateKind> } {
  const kinds = new Set<FateKind>();
  const sampled = new Set<FateKind>();
  for (const k of ALL_FATE_KINDS) {
    const t = FATE_TELEMETRY[k];
    const event = fateEventEnabled(rc, t.event);
    if (event || fateMetricEnabled(rc, t.metric)) kinds.add(k);
    if (event && rc.sample_per_interval > 0) sampled.add(k);
  }
  return { kinds, sampled };
}
