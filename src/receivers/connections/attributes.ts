// How each catalogue attribute is read from a connection event, and per-metric attribute plans
// that turn an event into a compact series key (hot path) and, once per series, an attribute object.
import { type ConnectionsReceiverConfig, rttBucketsSeconds } from './config';
import type { ConnPipelineEvent } from '../../pipeline/event';
import type { TcpState } from './event';
import { errnoName } from '../../wire/errno-names';
import { AttributePlan, type Extractor, ownerExtractors, metricAttributes } from '../../telemetry/attribute-plan';
import { ATTR, METRIC, type AttributeName, type MetricDescriptor } from '../../catalogue/generated';

type Extract = Extractor<ConnPipelineEvent>;

const inbound = (ev: ConnPipelineEvent): boolean => ev.direction === 'inbound' || (ev.direction === 'unknown' && ev.remotePort === 0);
const nonZero = (n: number): number | undefined => (n === 0 ? undefined : n);
const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** Every attribute a connection event can carry; attributes absent here are not connection attributes. */
export const CONN_EXTRACTORS: Partial<Record<AttributeName, Extract>> = {
  [ATTR.NETWORK_TRANSPORT]: (ev) => ev.transport,
  [ATTR.NETWORK_TYPE]: (ev) => ev.networkType,
  [ATTR.NETWORK_PEER_ADDRESS]: (ev) => nonEmpty(ev.remoteAddress),
  [ATTR.NETWORK_PEER_PORT]: (ev) => nonZero(ev.remotePort),
  [ATTR.SERVER_ADDRESS]: (ev) => nonEmpty(inbound(ev) ? ev.localAddress : ev.remoteAddress),
  [ATTR.SERVER_PORT]: (ev) => nonZero(inbound(ev) ? ev.localPort : ev.remotePort),
  [ATTR.CLIENT_PORT]: (ev) => nonZero(inbound(ev) ? ev.remotePort : ev.localPort),
  [ATTR.NETWORK_CONNECTION_STATE]: (ev) => ev.newState,
  [ATTR.CONNECTION_PREVIOUS_STATE]: (ev) => ev.oldState,
  [ATTR.CONNECTION_DIRECTION]: (ev) => ev.direction,
  ...ownerExtractors<ConnPipelineEvent>(),
  [ATTR.ERROR_TYPE]: (ev) => (ev.error === 0 ? undefined : errnoName(ev.error)),
  [ATTR.CONNECTION_DURATION]: (ev) => (ev.durationNs > 0 ? ev.durationNs / 1e9 : undefined),
  [ATTR.CONNECTION_TRANSMITTED_SIZE]: (ev) => ev.bytesSent,
  [ATTR.CONNECTION_RECEIVED_SIZE]: (ev) => ev.bytesReceived,
  [ATTR.CONNECTION_RETRANSMITS]: (ev) => ev.retransmits,
  [ATTR.CONNECTION_RTT]: (ev) => (ev.srttUs > 0 ? ev.srttUs / 1e6 : undefined),
};

// States a socket can only be in after it was established: an error then is a reset, not a failed connect.
export const AFTER_ESTABLISHED: ReadonlySet<TcpState> = new Set(['established', 'fin_wait_1', 'fin_wait_2', 'close_wait', 'last_ack', 'closing', 'time_wait']);

/** A close with an error from a state before established: the connection never worked (refused, timed out...). */
export function failedBeforeEstablished(ev: ConnPipelineEvent): boolean {
  return ev.kind === 'close' && ev.error !== 0 && !AFTER_ESTABLISHED.has(ev.oldState);
}

/** A plan over connection events (a metric's attributes, or a log event's). */
export type ConnPlan = AttributePlan<ConnPipelineEvent>;
export const connPlan = (names: readonly AttributeName[]): ConnPlan => new AttributePlan(names, CONN_EXTRACTORS, 'connection');

/** A metric's plan: its catalogue attributes minus opt-ins the receiver's `include` leaves off, minus `omit`. */
export const connMetricPlan = (
  attributes: readonly AttributeName[],
  include: ConnectionsReceiverConfig['include'],
  omit: readonly AttributeName[] = [],
): ConnPlan => connPlan(metricAttributes(attributes, include, omit));

/**
 * A plan of netwatch.connection.io for one direction: a close counts its bytes twice, transmitted
 * and received, into series that differ by `network.io.direction` (a constant of the plan).
 */
export const connIoPlan = (attributes: readonly AttributeName[], include: ConnectionsReceiverConfig['include'], direction: 'transmit' | 'receive'): ConnPlan =>
  new AttributePlan(metricAttributes(attributes, include), CONN_EXTRACTORS, 'connection', { [ATTR.NETWORK_IO_DIRECTION]: () => direction });

/**
 * A histogram's explicit boundaries: netwatch.connection.rtt's from the receivers' rtt_buckets_us
 * (the receivers of one pipeline give the same, config/load.ts checks), the others the catalogue's.
 */
export function histogramBuckets(m: MetricDescriptor, receivers: readonly ConnectionsReceiverConfig[]): readonly number[] {
  const rc = receivers[0];
  return m.name === METRIC.CONNECTION_RTT && rc ? rttBucketsSeconds(rc) : (m.buckets ?? []);
}
