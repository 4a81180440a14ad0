// How each catalogue attribute is read from a packet_fate event, and per-metric attribute plans
// (as conn-attributes.ts does for connections): a compact series key per event, attributes once per series.
import type { Attributes } from '@opentelemetry/api';
import type { PacketFateReceiverConfig } from '../config/types';
import type { PacketFatePipelineEvent } from '../pipeline/event';
import { ATTR, ATTRIBUTES, type AttributeName } from './generated';

type AttrValue = string | number | boolean;
type Extract = (ev: PacketFatePipelineEvent) => AttrValue | undefined;

const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);
const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** TCP header flag bits (RFC 9293), lowest first, as tcpdump names them. */
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** `SYN`, `PSH|ACK`, ... ('' for none). */
export function tcpFlagsText(flags: number): string {
  const out: string[] = [];
  for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (flags & (1 << i)) out.push(TCP_FLAG_NAMES[i]);
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
  [ATTR.PROCESS_PID]: (ev) => nonZero(ev.pid),
  [ATTR.PROCESS_EXECUTABLE_NAME]: (ev) => nonEmpty(ev.process?.executableName ?? ev.comm),
  [ATTR.CONTAINER_ID]: (ev) => nonEmpty(ev.container?.id),
  [ATTR.CONTAINER_RUNTIME]: (ev) => ev.container?.runtime,
  [ATTR.NOMAD_JOB]: (ev) => nonEmpty(ev.nomad?.job),
  [ATTR.NOMAD_GROUP]: (ev) => nonEmpty(ev.nomad?.group),
  [ATTR.NOMAD_TASK]: (ev) => nonEmpty(ev.nomad?.task),
  [ATTR.NOMAD_NAMESPACE]: (ev) => nonEmpty(ev.nomad?.namespace),
  [ATTR.NOMAD_ALLOC_ID]: (ev) => nonEmpty(ev.nomad?.allocId),
  [ATTR.NETWORK_NAMESPACE]: (ev) => nonZero(ev.netns),
  [ATTR.DROP_LOCATION]: (ev) => (ev.record === 'sample' ? ev.locationName : undefined),
  [ATTR.SOURCE_ADDRESS]: (ev) => (ev.record === 'sample' ? nonEmpty(ev.sourceAddress) : undefined),
  [ATTR.SOURCE_PORT]: (ev) => (ev.record === 'sample' ? nonZero(ev.sourcePort) : undefined),
  [ATTR.DESTINATION_ADDRESS]: (ev) => (ev.record === 'sample' ? nonEmpty(ev.destinationAddress) : undefined),
  [ATTR.DESTINATION_PORT]: (ev) => (ev.record === 'sample' ? nonZero(ev.destinationPort) : undefined),
  [ATTR.TCP_FLAGS]: (ev) => (ev.record === 'sample' && ev.kind === 'drop' && ev.transport === 'tcp' ? nonEmpty(tcpFlagsText(ev.tcpFlags)) : undefined),
};

const SEP = '\x1f';

/** The attributes one metric gets from one receiver: opt-ins resolved once, not per event. */
export class FatePlan {
  private readonly extract: Extract[];

  constructor(readonly names: readonly AttributeName[]) {
    this.extract = names.map((n) => {
      const f = FATE_EXTRACTORS[n];
      if (!f) throw new Error(`attribute ${n} has no packet_fate extractor`);
      return f;
    });
  }

  /** Catalogue attributes of a metric minus the opt-ins the receiver's `include` leaves off. */
  static forMetric(attributes: readonly AttributeName[], include: PacketFateReceiverConfig['include']): FatePlan {
    return new FatePlan(attributes.filter((n) => {
      const d = ATTRIBUTES[n];
      return d.requirement === 'always' || (d.include === 'process_pid' && include.process_pid);
    }));
  }

  key(ev: PacketFatePipelineEvent): string {
    let k = '';
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i](ev);
      k += v === undefined ? SEP : v + SEP;
    }
    return k;
  }

  attributes(ev: PacketFatePipelineEvent): Attributes {
    const out: Attributes = {};
    for (let i = 0; i < this.extract.length; i++) {
      const v = this.extract[i](ev);
      if (v !== undefined) out[this.names[i]] = v;
    }
    return out;
  }
}
