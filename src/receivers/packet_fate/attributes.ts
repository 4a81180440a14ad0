// How each catalogue attribute is read from a packet_fate event, and per-metric attribute plans
// (as conn-attributes.ts does for connections): a compact series key per event, attributes once per series.
import type { PacketFateReceiverConfig } from './config';
import type { PacketFatePipelineEvent } from '../../pipeline/event';
import { AttributePlan, type Extractor, ownerExtractors, metricAttributes } from '../../telemetry/attribute-plan';
import { ATTR, type AttributeName } from '../../catalogue/generated';

type Extract = Extractor<PacketFatePipelineEvent>;

const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);
const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** TCP header flag bits (RFC 9293), lowest first, as tcpdump names them. */
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** `SYN`, `PSH|ACK`, ... ('' for none). */
export function tcpFlagsText(flags: number): string {
  const out: string[] = [];
  for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (flags & (1 << i)) out.push(TCP_FLAG_NAMES[i]!); // i < length
  return out.join('|');
}

/** Every attribute a packet_fate event can carry; sample-only ones are undefined on counts. */
export const FATE_EXTRACTORS: Partial<Record<AttributeName, Extract>> = {
  [ATTR.DROP_REASON]: (ev) => (ev.kind === 'drop' ? ev.reason : undefined),
  [ATTR.TCP_RESET_REASON]: (ev) => (ev.kind === 'reset_sent' ? ev.reason : undefined),
  [ATTR.NETWORK_IO_DIRECTION]: (ev) => (ev.kind === 'reset_sent' ? 'transmit' : ev.kind === 'reset_received' ? 'receive' : undefined),
  [ATTR.NETWORK_CONNECTION_STATE]: (ev) => ev.state,
  [ATTR.NETWORK_TYPE]: (ev) => ev.networkType,
  [ATTR.NETWORK_TRANSPORT]: (ev) => ev.transport,
  [ATTR.NETWORK_INTERFACE_NAME]: (ev) => nonEmpty(ev.interfaceName),
  ...ownerExtractors<PacketFatePipelineEvent>(),
  [ATTR.NETWORK_NAMESPACE]: (ev) => nonZero(ev.netns),
  [ATTR.DROP_LOCATION]: (ev) => (ev.record === 'sample' ? ev.locationName : undefined),
  [ATTR.SOURCE_ADDRESS]: (ev) => (ev.record === 'sample' ? nonEmpty(ev.sourceAddress) : undefined),
  [ATTR.SOURCE_PORT]: (ev) => (ev.record === 'sample' ? nonZero(ev.sourcePort) : undefined),
  [ATTR.DESTINATION_ADDRESS]: (ev) => (ev.record === 'sample' ? nonEmpty(ev.destinationAddress) : undefined),
  [ATTR.DESTINATION_PORT]: (ev) => (ev.record === 'sample' ? nonZero(ev.destinationPort) : undefined),
  [ATTR.TCP_FLAGS]: (ev) => (ev.record === 'sample' && ev.kind === 'drop' && ev.transport === 'tcp' ? nonEmpty(tcpFlagsText(ev.tcpFlags)) : undefined),
};

/** A plan over packet_fate events (a metric's attributes, or a log event's). */
export type FatePlan = AttributePlan<PacketFatePipelineEvent>;
export const fatePlan = (names: readonly AttributeName[]): FatePlan => new AttributePlan(names, FATE_EXTRACTORS, 'packet_fate');

/** A metric's plan: its catalogue attributes minus the opt-ins the receiver's `include` leaves off. */
export const fateMetricPlan = (attributes: readonly AttributeName[], include: PacketFateReceiverConfig['include']): FatePlan =>
  fatePlan(metricAttributes(attributes, include));
